"""A child's age, one way for every service: whole years on a day, as a child's age is counted (a child born on
29 February turns a year older on 1 March in a year without one). Pure: the services' domain cores use it."""
from __future__ import annotations

from datetime import date

ADULT_AGE = 18  # a children's home cares for children: under 18


def age_on(date_of_birth: date, on: date) -> int:
    """Age in whole years on a day."""
    return on.year - date_of_birth.year - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))
