"""Deadline states. Pure. A deadline is upcoming, due soon (within the warning window), overdue
(its date has passed and it is not done) or met."""
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


def deadline_key(placement_id: str, kind: str, item: str) -> str:
    """One deadline, named the same way by every replica: the notice table is unique on (key, notice)."""
    return f"{placement_id}:{kind}:{item}"
