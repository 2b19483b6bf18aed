"""A placement's states, its phase history and the moves between them. Pure: no web or database imports.

    pending --arrive--> phase_1 --extend_phase_1--> phase_1 (extended)
    phase_1 --transition_to_phase_2--> phase_2 --end--> ended
    phase_1 --end--> ended                     (an unplanned ending in Phase 1)

The phase history is a list of half-open date intervals [start, end): the first starts on the
arrival date, each next one starts where the previous ended, and the last is open until the
placement ends (the leaving day belongs to no phase: it is not charged). So the history is always
contiguous, without gaps or overlaps, whatever order the moves come in; billing reads phases from it.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import Enum

from libs.common.ages import ADULT_AGE, age_on

from .calendar import day_number
from .schedule import phase_1_planned_end


class Status(str, Enum):
    pending = "pending"      # admission accepted, the child has not arrived
    phase_1 = "phase_1"      # Crisis Assessment and Stabilisation (days 1-28, or as extended)
    phase_2 = "phase_2"      # Long-Term Therapeutic Growth
    ended = "ended"


class Move(str, Enum):
    arrive = "arrive"
    extend_phase_1 = "extend_phase_1"
    transition_to_phase_2 = "transition_to_phase_2"
    end = "end"


MOVES: dict[Status, tuple[Move, ...]] = {
    Status.pending: (Move.arrive,),
    Status.phase_1: (Move.extend_phase_1, Move.transition_to_phase_2, Move.end),
    Status.phase_2: (Move.end,),
    Status.ended: (),
}


class IllegalMove(Exception):
    """The move is not allowed from the current status (the API answers 409 with the allowed moves)."""

    def __init__(self, current: Status, wanted: Move, detail: str | None = None):
        self.current = Status(current)
        self.wanted = Move(wanted)
        self.allowed = allowed_moves(current)
        super().__init__(detail or f"a placement that is {self.current.value} cannot {self.wanted.value}")


class InvalidDate(ValueError):
    """A date that would break the phase history (a gap, an overlap, a day before arrival)."""

    def __init__(self, field_name: str, message: str):
        self.field = field_name
        super().__init__(message)


class ReasonRequired(ValueError):
    def __init__(self, message: str):
        self.field = "reason"
        super().__init__(message)


PHASE_1_LONGEST_DAYS = 365  # an extended Phase 1 ends within a year of the arrival


def allowed_moves(status: Status | str) -> list[str]:
    return [m.value for m in MOVES[Status(status)]]


@dataclass(frozen=True)
class PhaseSpan:
    phase: str
    start: date
    end: date | None = None  # exclusive; None while current

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)

    def to_dict(self) -> dict:
        return {"phase": self.phase, "start": self.start.isoformat(),
                "end": self.end.isoformat() if self.end else None}

    @classmethod
    def from_dict(cls, d: dict) -> "PhaseSpan":
        return cls(d["phase"], date.fromisoformat(d["start"]), date.fromisoformat(d["end"]) if d["end"] else None)


@dataclass(frozen=True)
class Extension:
    reason: str
    previous_end: date
    new_end: date


@dataclass(frozen=True)
class Placement:
    status: Status = Status.pending
    arrival_date: date | None = None
    phase_1_end: date | None = None      # the last planned day of Phase 1 (day 28 unless extended)
    history: tuple[PhaseSpan, ...] = ()
    extensions: tuple[Extension, ...] = ()
    end_date: date | None = None

    # --- moves -------------------------------------------------------------------------------
    def _check(self, move: Move) -> None:
        if move not in MOVES[self.status]:
            raise IllegalMove(self.status, move)

    def arrive(self, on: date, today: date, born: date | None = None) -> "Placement":
        """Phase 1 from the arrival day. It has happened (not in the future) and, when the child's date of birth is
        known, it falls while the child is a child: on or after the birth, before the 18th birthday. A back-dated
        arrival (a child already living in the home when the system came) is an arrival; a year-1 one (a typo of
        the year) is not: every deadline and fee would run from it."""
        self._check(Move.arrive)
        if on > today:
            raise InvalidDate("arrival_date", "an arrival is recorded when it has happened: not in the future")
        if born is not None and on < born:
            raise InvalidDate("arrival_date", f"an arrival on or after the child's date of birth ({born.isoformat()})")
        if born is not None and age_on(born, on) >= ADULT_AGE:
            raise InvalidDate("arrival_date", f"an arrival before the child's {ADULT_AGE}th birthday (born "
                                              f"{born.isoformat()}): a children's home")
        return replace(self, status=Status.phase_1, arrival_date=on, phase_1_end=phase_1_planned_end(on),
                       history=(PhaseSpan(Status.phase_1.value, on),))

    def extend_phase_1(self, new_end: date, reason: str) -> "Placement":
        self._check(Move.extend_phase_1)
        if not reason or not reason.strip():
            raise ReasonRequired("an extension of Phase 1 needs a recorded reason")
        if new_end <= self.phase_1_end:
            raise InvalidDate("new_end_date", f"the new end of Phase 1 must be after {self.phase_1_end.isoformat()}")
        # the longest assessment in the reference cases was 3 months; a year is four times that, and stops a typo of
        # the year (Phase 1 until 9999 held the home's Pathway Bed and the plan's deadline for ever)
        if self.arrival_date is not None and (new_end - self.arrival_date).days >= PHASE_1_LONGEST_DAYS:
            raise InvalidDate("new_end_date", f"Phase 1 lasts less than {PHASE_1_LONGEST_DAYS} days: it ends before "
                                              f"{(self.arrival_date + timedelta(days=PHASE_1_LONGEST_DAYS)).isoformat()}")
        return replace(self, phase_1_end=new_end,
                       extensions=self.extensions + (Extension(reason.strip(), self.phase_1_end, new_end),))

    def transition_to_phase_2(self, effective: date, today: date, reason: str | None = None, *,
                              plan_issued: bool = True) -> tuple["Placement", bool]:
        """Phase 2 from the effective date; answers the placement and whether it was back-dated.
        It needs the Initial Pathway Plan issued; a back-dated transition needs a reason."""
        self._check(Move.transition_to_phase_2)
        if not plan_issued:
            raise IllegalMove(self.status, Move.transition_to_phase_2,
                              "Phase 2 starts once the Initial Pathway Plan is issued")
        current = self.history[-1]
        if effective <= current.start:
            raise InvalidDate("effective_date", "Phase 2 starts after the first day of Phase 1 "
                                                f"({current.start.isoformat()})")
        if effective > today and self.phase_1_end is not None and effective - timedelta(days=1) > self.phase_1_end:
            # a planned transition (day 29, or the day after an extended Phase 1): a later one in the future, a
            # typo of the year say, moved the child to Phase 2 now while billing charged Phase 1 until that day
            raise InvalidDate("effective_date", "a Phase 2 planned ahead starts by the day after Phase 1's planned "
                                                f"end ({self.phase_1_end.isoformat()}): extend Phase 1 for a later one")
        backdated = effective < today
        if backdated and not (reason and reason.strip()):
            raise ReasonRequired("a back-dated transition needs a recorded reason")
        history = self.history[:-1] + (replace(current, end=effective), PhaseSpan(Status.phase_2.value, effective))
        return replace(self, status=Status.phase_2, history=history), backdated

    def end(self, on: date) -> "Placement":
        self._check(Move.end)
        current = self.history[-1]
        if on <= current.start:
            raise InvalidDate("end_date", f"the end date must be after the start of the current phase "
                                          f"({current.start.isoformat()})")
        return replace(self, status=Status.ended, end_date=on, history=self.history[:-1] + (replace(current, end=on),))

    # --- reading -------------------------------------------------------------------------------
    def phase_on(self, day: date) -> str:
        """The phase on a day: pending before arrival, ended from the end date on."""
        if self.arrival_date is None or day < self.arrival_date:
            return Status.pending.value
        for span in self.history:
            if span.covers(day):
                return span.phase
        return Status.ended.value

    def day_on(self, day: date) -> int | None:
        """The day counter on a day (day 1 = arrival); None before arrival or from the end date on."""
        phase = self.phase_on(day)
        if phase in (Status.pending.value, Status.ended.value):
            return None
        return day_number(self.arrival_date, day)

    def phase_1_day_on(self, day: date) -> int | None:
        return self.day_on(day) if self.phase_on(day) == Status.phase_1.value else None


def history_is_contiguous(p: Placement) -> bool:
    """The invariant the property tests check: no gaps, no overlaps, no empty spans, one open span
    at most (the last, while the placement runs) and none once it has ended."""
    spans = p.history
    if p.status == Status.pending:
        return spans == ()
    if not spans or spans[0].start != p.arrival_date:
        return False
    for a, b in zip(spans, spans[1:]):
        if a.end is None or a.end != b.start:
            return False
    for s in spans:
        if s.end is not None and s.end <= s.start:
            return False
    last = spans[-1]
    return (last.end is None) == (p.status != Status.ended) and (p.status != Status.ended or last.end == p.end_date)


def phase_ends(p: Placement) -> date | None:
    """The last day of the current phase span if it has ended (inclusive)."""
    last = p.history[-1] if p.history else None
    return last.end - timedelta(days=1) if last and last.end else None
