"""Viability of a home: occupancy by day, revenue by phase, the cost base, break-even occupancy, and for a new
home the month it reaches break-even under a ramp-up (1/N of the beds in month 1, 2/N in month 2, ...)."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Iterable

from .charging import Stream, round_sevenths
from .periods import CALENDAR_MONTH, period_starting


def occupancy_by_day(spans: Iterable[tuple[date, date]], first: date, end: date) -> list[tuple[date, int]]:
    """Children present on each day [first, end): a child is present from arrival to the day before leaving."""
    delta: dict[date, int] = defaultdict(int)
    for a, b in spans:
        a, b = max(a, first), min(b, end)
        if b > a:
            delta[a] += 1
            delta[b] -= 1
    out, n, d = [], 0, first
    while d < end:
        n += delta.get(d, 0)
        out.append((d, n))
        d += timedelta(days=1)
    return out


@dataclass
class Month:
    month: date
    days: int
    places: int
    occupied_bed_days: int
    revenue_by_kind: dict[str, int] = field(default_factory=dict)
    cost_pence: int | None = None

    @property
    def revenue_pence(self) -> int:
        return sum(self.revenue_by_kind.values())

    @property
    def occupancy(self) -> float:
        return self.occupied_bed_days / (self.days * self.places) if self.places else 0.0

    @property
    def break_even_occupancy(self) -> float | None:
        """The share of the bed-days that must be filled, at this month's revenue per occupied bed-day,
        to cover the cost (None without a cost or without any occupied day to price it)."""
        if self.cost_pence is None or not self.occupied_bed_days or not self.revenue_pence:
            return None
        per_bed_day = self.revenue_pence / self.occupied_bed_days
        return self.cost_pence / (per_bed_day * self.days * self.places)

    @property
    def surplus_pence(self) -> int | None:
        return None if self.cost_pence is None else self.revenue_pence - self.cost_pence


def monthly(streams: Iterable[Stream], spans: Iterable[tuple[date, date]], places: int, first_month: date,
            last_month: date, costs: dict[date, int]) -> list[Month]:
    """Month by month: occupied bed-days, revenue by kind (phase_1, phase_2, blended, add-ons) and the cost."""
    streams, spans = list(streams), list(spans)
    out = []
    m = period_starting(CALENDAR_MONTH, first_month)
    while m.start <= last_month:
        revenue: dict[str, int] = defaultdict(int)
        for s in streams:
            for c in s.charges(m.start, m.end_excl):
                revenue[c.key] += c.amount
        occupied = sum(n for _, n in occupancy_by_day(spans, m.start, m.end_excl))
        out.append(Month(m.start, m.days, places, occupied, dict(revenue), costs.get(m.start)))
        m = period_starting(CALENDAR_MONTH, m.end_excl)
    return out


@dataclass(frozen=True)
class RampMonth:
    number: int
    month: date
    phase_1_children: int
    phase_2_children: int
    revenue_pence: int
    cost_pence: int

    @property
    def surplus_pence(self) -> int:
        return self.revenue_pence - self.cost_pence


def ramp_up(places: int, phase_1_weekly: int, phase_2_weekly: int, monthly_cost: int, first_month: date,
            months: int = 12) -> tuple[list[RampMonth], int | None]:
    """A new home filling one bed a month (1/N, 2/N, ... N/N), one child in Phase 1 at a time (the newest),
    the others in Phase 2; once full, one in Phase 1 and the rest in Phase 2. Answers the months and the
    number of the first month whose revenue covers the cost (None if none within `months`)."""
    out, m, first_even = [], period_starting(CALENDAR_MONTH, first_month), None
    for k in range(1, months + 1):
        children = min(k, places)
        p1, p2 = min(1, children), max(0, children - 1)
        revenue = round_sevenths((p1 * phase_1_weekly + p2 * phase_2_weekly) * m.days)
        out.append(RampMonth(k, m.start, p1, p2, revenue, monthly_cost))
        if first_even is None and revenue >= monthly_cost:
            first_even = k
        m = period_starting(CALENDAR_MONTH, m.end_excl)
    return out, first_even
