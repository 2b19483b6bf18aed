"""A referral's states and the moves between them. Pure: no web or database imports.

    received -> in_assessment -> accepted | declined | withdrawn | expired
    received -> accepted | declined | withdrawn | expired   (the hub may decide without a recorded match)

accepted, declined, withdrawn and expired are final. Only an open referral (received or
in_assessment) may be changed by the council.
"""
from __future__ import annotations

from datetime import date, timedelta
from enum import Enum


class Status(str, Enum):
    received = "received"
    in_assessment = "in_assessment"
    accepted = "accepted"
    declined = "declined"
    withdrawn = "withdrawn"
    expired = "expired"


_DECISIONS = frozenset({Status.accepted, Status.declined, Status.withdrawn, Status.expired})
MOVES: dict[Status, frozenset[Status]] = {
    Status.received: frozenset({Status.in_assessment}) | _DECISIONS,
    Status.in_assessment: _DECISIONS,
    Status.accepted: frozenset(),
    Status.declined: frozenset(),
    Status.withdrawn: frozenset(),
    Status.expired: frozenset(),
}
OPEN = frozenset(s for s, moves in MOVES.items() if moves)  # not yet decided: the hub's queue
FINAL = frozenset(s for s, moves in MOVES.items() if not moves)


class IllegalMove(Exception):
    def __init__(self, current: Status, wanted: Status | str):
        self.current = Status(current)
        self.wanted = wanted
        self.allowed = allowed_moves(current)
        super().__init__(f"a referral that is {self.current.value} cannot become {getattr(wanted, 'value', wanted)}")


def allowed_moves(current: Status | str) -> list[str]:
    return sorted(s.value for s in MOVES[Status(current)])


def can_move(current: Status | str, to: Status | str) -> bool:
    return Status(to) in MOVES[Status(current)]


def move(current: Status | str, to: Status | str) -> Status:
    """The new status, or IllegalMove naming the allowed moves."""
    if not can_move(current, to):
        raise IllegalMove(Status(current), to)
    return Status(to)


def is_open(status: Status | str) -> bool:
    return Status(status) in OPEN


def expires_on(wanted_start_date: date | None, received_on: date, expire_after_days: int) -> date:
    """The first day an undecided referral may be expired: a configurable time after the wanted start
    date (or, without one, after the day it was received)."""
    return (wanted_start_date or received_on) + timedelta(days=expire_after_days)


def is_overdue(status: Status | str, wanted_start_date: date | None, received_on: date, today: date,
               expire_after_days: int) -> bool:
    return is_open(status) and today >= expires_on(wanted_start_date, received_on, expire_after_days)
