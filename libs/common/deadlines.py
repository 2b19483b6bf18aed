"""Deadline states, one rule for every service that raises deadlines (assessment's plans, tasks and reviews;
outcomes' measurement points): upcoming, due soon (within the warning window), overdue (its date has passed
and it is not met) or met. Pure."""
from __future__ import annotations

from datetime import date, timedelta

DUE_SOON_DAYS = 3


def deadline_state(due: date, done: bool, today: date, due_soon_days: int = DUE_SOON_DAYS) -> str:
    if done:
        return "met"
    if today > due:
        return "overdue"
    if today >= due - timedelta(days=due_soon_days):
        return "due_soon"
    return "upcoming"
