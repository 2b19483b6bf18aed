"""Charging by day at weekly fee / 7, with rounding carried cumulatively.

A *stream* is what one thing costs day by day: a placement's fee (its phase rates, or the blended fee, from
the schedule in force that day), one add-on, or a block. Each charged day adds weekly/7 pence exactly; the
exact running total C(d) (the charge of every charged day before d) is held as an integer count of
sevenths of a penny, so it is exact. The charge of any run of days [a, b) is R(C(b)) - R(C(a)), where R
rounds half up to the penny. Every amount is such a difference, so amounts of adjacent runs telescope:
for any stay, the lines of every period add up to R(C(end)) - the charge of the whole stay computed at once,
to the penny, however the stay is cut into periods and rate segments."""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Iterable, Sequence

from .contracts import AddOn, FeeSchedule, Terms

ONE_DAY = timedelta(days=1)


def round_sevenths(n: int) -> int:
    """n/7 pence rounded half up to a whole penny."""
    return (2 * n + 7) // 14


@dataclass(frozen=True)
class Piece:
    """Days [start, end) charged at one weekly rate."""
    start: date
    end: date
    weekly: int
    key: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days


@dataclass(frozen=True)
class Charge:
    """A line's worth: days [start, end) at one weekly rate, and its amount in pence."""
    start: date
    end: date
    weekly: int
    key: str
    amount: int

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def last_day(self) -> date:
        return self.end - ONE_DAY


class Stream:
    def __init__(self, pieces: Iterable[Piece]):
        merged: list[Piece] = []
        for p in sorted((p for p in pieces if p.end > p.start), key=lambda p: p.start):
            if merged and merged[-1].end > p.start:
                raise ValueError("overlapping pieces in a stream")
            if merged and merged[-1].end == p.start and merged[-1].weekly == p.weekly and merged[-1].key == p.key:
                merged[-1] = Piece(merged[-1].start, p.end, p.weekly, p.key)
            else:
                merged.append(p)
        self.pieces = merged
        self._starts = [p.start for p in merged]
        self._prefix = [0]
        for p in merged:
            self._prefix.append(self._prefix[-1] + p.days * p.weekly)

    def cum7(self, d: date) -> int:
        """7 x the exact charge of every charged day before d."""
        i = bisect_right(self._starts, d) - 1
        if i < 0:
            return 0
        p = self.pieces[i]
        return self._prefix[i] + min((d - p.start).days, p.days) * p.weekly

    def total(self, d: date) -> int:
        return round_sevenths(self.cum7(d))

    def amount(self, a: date, b: date) -> int:
        return self.total(b) - self.total(a) if b > a else 0

    def charges(self, a: date, b: date) -> list[Charge]:
        """The days charged in [a, b), a charge per run at one rate; their amounts add up to amount(a, b)."""
        out = []
        for p in self.pieces:
            s, e = max(p.start, a), min(p.end, b)
            if e > s:
                out.append(Charge(s, e, p.weekly, p.key, self.amount(s, e)))
        return out

    def charged_days(self, a: date, b: date) -> int:
        return sum(max(0, (min(p.end, b) - max(p.start, a)).days) for p in self.pieces)

    @property
    def empty(self) -> bool:
        return not self.pieces


@dataclass(frozen=True)
class Stay:
    """What billing knows of a placement: arrival, end (the leaving day) and phase transitions."""
    arrival: date | None
    end: date | None = None
    transitions: tuple[tuple[date, str], ...] = ()   # (effective date, phase), any order

    def phase_on(self, day: date) -> str:
        phase = "phase_1"
        for when, to in sorted(self.transitions):
            if when <= day:
                phase = to
        return phase


def charged_span(stay: Stay, terms: Terms, through: date) -> tuple[date, date] | None:
    """The charged days [first, end) of a stay up to `through` (exclusive): the arrival day charged and
    the leaving day not, unless the contract says otherwise. A stay that leaves on its arrival day is
    charged one day when either end is charged."""
    if stay.arrival is None:
        return None
    first = stay.arrival if terms.charge_arrival_day else stay.arrival + ONE_DAY
    end = through
    if stay.end is not None:
        end = min(through, stay.end + ONE_DAY if terms.charge_leaving_day else stay.end)
        if stay.end == stay.arrival and (terms.charge_arrival_day or terms.charge_leaving_day):
            first, end = stay.arrival, min(through, stay.arrival + ONE_DAY)
    return (first, end) if end > first else None


def _cut(first: date, end: date, bounds: Iterable[date]) -> list[tuple[date, date]]:
    cuts = sorted({first, end, *(b for b in bounds if first < b < end)})
    return list(zip(cuts, cuts[1:]))


def fee_stream(stay: Stay, terms: Terms, schedules: Sequence[FeeSchedule], through: date,
               excluded: Sequence[tuple[date, date]] = ()) -> tuple[Stream, int]:
    """The placement's fee, day by day, up to `through`; days in `excluded` (inside a block) are not
    charged here. Answers the stream and the number of days no schedule priced (left uncharged, to be
    charged by adjustment once a schedule covers them)."""
    span = charged_span(stay, terms, through)
    if span is None:
        return Stream(()), 0
    first, end = span
    bounds = [d for d, _ in stay.transitions]
    for s in schedules:
        bounds.append(s.effective_from)
        if s.effective_to is not None:
            bounds.append(s.effective_to + ONE_DAY)
    for a, b in excluded:
        bounds += [a, b]
    pieces, unpriced = [], 0
    phases = sorted(stay.transitions)
    for s, e in _cut(first, end, bounds):
        if excluded and any(a <= s < b for a, b in excluded):
            continue
        schedule = next((x for x in schedules if x.covers(s)), None)
        if schedule is None:
            unpriced += (e - s).days
            continue
        phase = "phase_1"
        for when, to in phases:  # the phase on day s (transitions in date order)
            if when > s:
                break
            phase = to
        key, weekly = schedule.weekly(terms.form, phase)
        if weekly is None:
            unpriced += (e - s).days
            continue
        pieces.append(Piece(s, e, weekly, key))
    return Stream(pieces), unpriced


def add_on_stream(add_on: AddOn, stay: Stay, terms: Terms, through: date) -> Stream:
    """An add-on is charged on the stay's charged days within its own dates."""
    span = charged_span(stay, terms, through)
    if span is None:
        return Stream(())
    first = max(span[0], add_on.start)
    end = min(span[1], add_on.end + ONE_DAY) if add_on.end else span[1]
    return Stream([Piece(first, end, add_on.weekly_pence, f"add_on:{add_on.kind}")] if end > first else [])


def block_stream(terms: Terms, through: date) -> Stream:
    """The block price, charged every day of the term whether the beds are full or not."""
    end = min(through, terms.end + ONE_DAY) if terms.end else through
    return Stream([Piece(terms.start, end, terms.block_weekly_pence, "block")] if end > terms.start else [])


def block_days(terms: Terms, stays: dict[str, Stay], through: date) -> dict[str, list[tuple[date, date]]]:
    """Which placement days the block pays for: on each day of the term, the first N placements present
    (earliest arrival first, then by id) fill the block's N beds; the others are above the block."""
    out: dict[str, list[tuple[date, date]]] = {pid: [] for pid in stays}
    spans = {pid: charged_span(stay, terms, through) for pid, stay in stays.items()}
    spans = {pid: s for pid, s in spans.items() if s is not None}
    if not spans or terms.form != "block":
        return out
    term_end = min(through, terms.end + ONE_DAY) if terms.end else through
    bounds = {terms.start, term_end}
    for a, b in spans.values():
        bounds |= {a, b}
    order = sorted(spans, key=lambda pid: (stays[pid].arrival, pid))
    for s, e in _cut(terms.start, term_end, bounds):
        present = [pid for pid in order if spans[pid][0] <= s < spans[pid][1]]
        for pid in present[:terms.block_beds]:
            runs = out[pid]
            if runs and runs[-1][1] == s:
                runs[-1] = (runs[-1][0], e)
            else:
                runs.append((s, e))
    return out
