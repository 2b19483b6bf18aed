"""Dates the pathway runs on: day counters, calendar months and England's working days. Pure.

Working days exclude Saturdays, Sundays and the bank holidays of England (the `holidays` package,
country GB, subdivision ENG), including substitute days such as Monday 28 December 2026 for
Boxing Day on a Saturday.
"""
from __future__ import annotations

import calendar as _calendar
from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=[year]).keys())


def warm(today: date) -> None:
    """Load the holiday rules and this year's and its neighbours' bank holidays now (about 0.2 s the first
    time: the `holidays` package imports its country modules lazily), not in the first request needing them."""
    for year in range(today.year - 1, today.year + 2):
        _bank_holidays(year)


def is_bank_holiday(day: date) -> bool:
    return day in _bank_holidays(day.year)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and not is_bank_holiday(day)


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after start (start itself is not counted)."""
    if n < 0:
        raise ValueError("n must not be negative")
    day = start
    while n:
        day += timedelta(days=1)
        if is_working_day(day):
            n -= 1
    return day


def add_months(start: date, months: int) -> date:
    """The same day of the month, months later; the last day of a shorter month when there is no such day."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, _calendar.monthrange(year, month)[1]))


def day_number(arrival: date, on: date) -> int:
    """The placement's day counter: the day of arrival is day 1."""
    return (on - arrival).days + 1


def day_of(arrival: date, n: int) -> date:
    """The date of day n of a placement (day 1 is the arrival date)."""
    return arrival + timedelta(days=n - 1)
