"""The weekly fee that applies to a child on a day: what admissions and placements show (councils compare
costs by it). Worked out on `as_of`: today, or the start if the stay has not begun, or the last charged day
if it has ended. The contract is the council's contract in force on the start day (as the close charges);
the rate is the schedule's rate for the phase the child is in that day (block contracts: the schedule's spot
rate, as viability values a placement). No contract or no schedule covering the day: no fee, and why."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Iterable, Sequence

from .charging import Stay
from .contracts import BLENDED, FeeSchedule, Terms, contract_for

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Applied:
    contract_id: str | None
    weekly_pence: int | None
    basis: str                      # phase_1 | phase_2 | blended | no_contract | unpriced
    effective_date: date | None     # the day from which this fee applies
    as_of: date

    def same_fee(self, other: "Applied | None") -> bool:
        return other is not None and (self.contract_id, self.weekly_pence, self.basis, self.effective_date) == (
            other.contract_id, other.weekly_pence, other.basis, other.effective_date)


def as_of_day(start: date, end: date | None, today: date) -> date:
    day = max(today, start)
    if end is not None and day >= end:
        day = max(start, end - ONE_DAY)
    return day


def applied_fee(la_code: str, start: date, stay: Stay, contracts: Iterable[Terms],
                schedules: dict[str, Sequence[FeeSchedule]], today: date) -> Applied:
    """`start`: the arrival day (or the planned start before arrival); `stay.transitions` the phase moves."""
    day = as_of_day(start, stay.end, today)
    terms = contract_for(contracts, la_code, start, schedules)
    if terms is None:
        return Applied(None, None, "no_contract", None, day)
    schedule = next((s for s in schedules.get(terms.id, ()) if s.covers(day)), None)
    phase = stay.phase_on(day)
    if schedule is None:
        return Applied(terms.id, None, "unpriced", None, day)
    basis, weekly = schedule.weekly(terms.form, phase)
    if weekly is None:
        return Applied(terms.id, None, "unpriced", None, day)
    since = [start, schedule.effective_from]
    if terms.form != BLENDED:  # the day the phase now running began
        since += [when for when, to in stay.transitions if when <= day and to == phase]
    return Applied(terms.id, weekly, basis, max(since), day)
