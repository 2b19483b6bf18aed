"""Outreach money (issue 16): weekly outreach, fixed-fee interventions and yearly retainers, as streams the
close settles like every other (domain/closing.py), so closed invoices never change and anything learnt later
becomes an adjustment or a late line.

- **Weekly outreach** (rate key `outreach_weekly`): charged by day at the schedule's weekly outreach rate / 7
  from the intervention's start (the day it became active) to its close, the start day charged and the close day
  not unless the contract says otherwise (the same charged span as a stay), cut where the schedule changes.
- **Fixed fee** (`outreach_fixed`): the schedule's fee per intervention, charged once, in the period holding the
  start day (whatever the outcome). As a stream it is one day's piece at 7 x the fee, so its amount is the fee to
  the penny; the invoice line shows the intervention's planned weeks as its span.
- **Yearly retainer** (`outreach_retainer`): a contract for N interventions per contract year (years counted from
  the contract's start) at a yearly fee, charged in 12 monthly parts on the first day of each contract month
  (part k is fee*(k+1)//12 - fee*k//12, so a year's parts add up to the fee exactly); with calendar-month fee
  periods and a contract starting on the 1st each period carries one part. The first N fixed-fee interventions
  starting in a contract year (by start day, then id) are covered: each still gets a line, at 0, naming the
  retainer; the ones beyond N are charged per case at the fixed fee. Weekly outreach is charged weekly on top.
"""
from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Iterable, Sequence

from .charging import Piece, Stay, Stream, _cut, charged_span
from .contracts import FeeSchedule, Terms

ONE_DAY = timedelta(days=1)
WEEKLY, FIXED, RETAINER = "outreach_weekly", "outreach_fixed", "outreach_retainer"


@dataclass(frozen=True)
class Outreach:
    """What billing knows of an intervention."""
    id: str
    la_code: str
    basis: str                      # fixed_fee | weekly
    planned_weeks: int
    start: date | None              # the day it became active; None: never started (never charged)
    end: date | None = None         # the close (not charged unless the contract charges the leaving day)


def add_months(day: date, months: int) -> date:
    m = day.month - 1 + months
    year, month = day.year + m // 12, m % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def outreach_contract_for(contracts: Iterable[Terms], schedules: dict[str, Sequence[FeeSchedule]], la_code: str,
                          day: date) -> Terms | None:
    """The contract an intervention is charged under: the council's contract in force on its start day that buys
    outreach (a retainer, or a schedule with an outreach rate that day); the latest-starting if several."""
    found = [c for c in contracts if c.la_code == la_code and c.covers(day)
             and (c.has_retainer or any(s.covers(day) and s.prices_outreach for s in schedules.get(c.id, ())))]
    return max(found, key=lambda c: (c.start, c.id)) if found else None


def contract_year(terms: Terms, day: date) -> int:
    """0 for the contract's first year (from its start day), 1 for the second, ..."""
    years = day.year - terms.start.year
    return years - 1 if add_months(terms.start, 12 * years) > day else years


def retainer_covered(terms: Terms, outreach: Iterable[Outreach]) -> dict[str, int]:
    """Which fixed-fee interventions the retainer covers: the first N starting in each contract year (by start
    day, then id). Answers intervention id -> its number within the year's N (1-based)."""
    if not terms.has_retainer:
        return {}
    by_year: dict[int, list[Outreach]] = defaultdict(list)
    for o in outreach:
        if o.basis == "fixed_fee" and o.start is not None and terms.covers(o.start):
            by_year[contract_year(terms, o.start)].append(o)
    out = {}
    for items in by_year.values():
        for n, o in enumerate(sorted(items, key=lambda o: (o.start, o.id))[:terms.retainer_interventions], start=1):
            out[o.id] = n
    return out


def _schedule_on(schedules: Sequence[FeeSchedule], day: date) -> FeeSchedule | None:
    return next((s for s in schedules if s.covers(day)), None)


def outreach_stream(o: Outreach, terms: Terms, schedules: Sequence[FeeSchedule], through: date,
                    covered: bool = False) -> tuple[Stream, int]:
    """An intervention's charges up to `through` (exclusive), and the days (weekly) or cases (fixed: 1) no
    schedule priced (left uncharged, charged as a late line once a schedule prices them)."""
    if o.start is None:
        return Stream(()), 0
    if o.basis == "fixed_fee":
        if o.start >= through:
            return Stream(()), 0
        if covered:
            return Stream([Piece(o.start, o.start + ONE_DAY, 0, RETAINER)]), 0
        schedule = _schedule_on(schedules, o.start)
        if schedule is None or schedule.outreach_fixed is None:
            return Stream(()), 1
        return Stream([Piece(o.start, o.start + ONE_DAY, 7 * schedule.outreach_fixed, FIXED)]), 0
    span = charged_span(Stay(o.start, o.end), terms, through)
    if span is None:
        return Stream(()), 0
    first, end = span
    bounds = []
    for s in schedules:
        bounds.append(s.effective_from)
        if s.effective_to is not None:
            bounds.append(s.effective_to + ONE_DAY)
    pieces, unpriced = [], 0
    for a, b in _cut(first, end, bounds):
        schedule = _schedule_on(schedules, a)
        if schedule is None or schedule.outreach_weekly is None:
            unpriced += (b - a).days
            continue
        pieces.append(Piece(a, b, schedule.outreach_weekly, WEEKLY))
    return Stream(pieces), unpriced


def retainer_parts(terms: Terms, through: date) -> list[tuple[date, date, int]]:
    """The retainer's monthly parts due before `through`: (first day, first day of the next part, pence)."""
    if not terms.has_retainer:
        return []
    out, k = [], 0
    fee = terms.retainer_yearly_pence
    while True:
        day = add_months(terms.start, k)
        if day >= through or (terms.end is not None and day > terms.end):
            return out
        i = k % 12
        out.append((day, add_months(terms.start, k + 1), fee * (i + 1) // 12 - fee * i // 12))
        k += 1


def retainer_stream(terms: Terms, through: date) -> Stream:
    """The retainer as a stream: each monthly part a one-day piece at 7 x the part on its first day."""
    return Stream([Piece(day, day + ONE_DAY, 7 * amount, RETAINER) for day, _, amount in retainer_parts(terms, through)])


def line_span(key: str, start: date, *, outreach: Outreach | None = None, terms: Terms | None = None
              ) -> tuple[date, date] | None:
    """What a one-off charge covers, for its invoice line: a fixed fee (or a covered intervention) its planned
    weeks from the start, a retainer part its contract month. None for a weekly line (its days are its span)."""
    if outreach is not None and key in (FIXED, RETAINER):
        return start, start + timedelta(weeks=max(outreach.planned_weeks, 1))
    if terms is not None and key == RETAINER:
        k = 0
        while add_months(terms.start, k) < start:
            k += 1
        return start, add_months(terms.start, k + 1)
    return None
