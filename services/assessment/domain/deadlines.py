"""Deadline states. Pure. A deadline is upcoming, due soon (within the warning window), overdue
(its date has passed and it is not done) or met."""
from __future__ import annotations

from libs.common.deadlines import DUE_SOON_DAYS, deadline_state

__all__ = ["DUE_SOON_DAYS", "deadline_state", "deadline_key"]


def deadline_key(placement_id: str, kind: str, item: str) -> str:
    """One deadline, named the same way by every replica: the notice table is unique on (key, notice)."""
    return f"{placement_id}:{kind}:{item}"
