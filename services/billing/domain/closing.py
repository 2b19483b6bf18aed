"""Closing a period for one stream: the period's charges, adjustments to lines already invoiced, and
late charges for earlier days that no invoice covered.

A closed invoice never changes. At each close, every line already invoiced for the stream (its amount plus
the adjustments made to it since) is compared with what its days cost now (R(C(b)) - R(C(a)) under what is
known today); a difference becomes an adjustment line referring to the original line. Earlier days that
no line covers (an arrival recorded late, an end date corrected later, a schedule added back-dated) become
late-charge lines. Since every billed run [a, b) then carries R(C(b)) - R(C(a)) and the runs are disjoint,
the stream's invoiced total through the period's end is R(C(end)): exactly the one-shot charge."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .charging import Charge, Stream


@dataclass(frozen=True)
class Billed:
    """A line already invoiced for a stream (a charge or a late charge), with its adjustments so far."""
    id: str
    start: date
    end: date           # exclusive
    amount: int         # the line's amount plus every adjustment referring to it


@dataclass(frozen=True)
class Adjustment:
    refers_to: str
    start: date
    end: date
    amount: int
    now: tuple[Charge, ...]     # what the days cost now, run by run


@dataclass
class Settlement:
    charges: list[Charge]
    adjustments: list[Adjustment]
    late: list[Charge]

    @property
    def total(self) -> int:
        return (sum(c.amount for c in self.charges) + sum(a.amount for a in self.adjustments)
                + sum(c.amount for c in self.late))


def _uncovered(stream: Stream, before: date, billed: list[Billed]) -> list[tuple[date, date]]:
    """Runs of charged days before `before` that no billed line covers."""
    out = []
    covered = sorted((b.start, b.end) for b in billed)
    for piece in stream.pieces:
        s, e = piece.start, min(piece.end, before)
        for a, b in covered:
            if b <= s or a >= e:
                continue
            if a > s:
                out.append((s, a))
            s = max(s, b)
            if s >= e:
                break
        if e > s:
            out.append((s, e))
    return out


def settle(stream: Stream, billed: list[Billed], period_start: date, period_end: date) -> Settlement:
    """Lines for the period [period_start, period_end) and the corrections of everything before it."""
    adjustments = []
    for b in billed:
        should = stream.amount(b.start, b.end)
        if should != b.amount:
            adjustments.append(Adjustment(b.id, b.start, b.end, should - b.amount,
                                          tuple(stream.charges(b.start, b.end))))
    late = [c for a, e in _uncovered(stream, period_start, billed) for c in stream.charges(a, e)]
    return Settlement(stream.charges(period_start, period_end), adjustments, late)
