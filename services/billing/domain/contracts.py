"""Contracts with councils and their fee schedules: the terms a placement is charged under.

Forms: spot (per placement, at the schedule's phase rates), block (N beds for a term at a weekly block price,
paid full or not; a placement above the block is charged at the schedule's spot rates), blended (one weekly
fee for the whole stay), open-book cost-plus (charged at the agreed schedule; the yearly open-book report
shows costs, the agreed margin and the gain share)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Iterable

from .periods import CALENDAR_MONTH

SPOT, BLOCK, BLENDED, OPEN_BOOK = "spot", "block", "blended", "open_book"
FORMS = (SPOT, BLOCK, BLENDED, OPEN_BOOK)
ADD_ON_KINDS = ("one_to_one", "two_to_one", "outreach")


class ContractError(ValueError):
    """A contract, schedule or add-on the rules refuse; names the field and the rule."""

    def __init__(self, field: str, rule: str, message: str):
        super().__init__(message)
        self.field = field
        self.rule = rule


@dataclass(frozen=True)
class OpenBook:
    margin_bp: int                 # agreed margin on cost, basis points (1500 = 15%)
    annual_target_pence: int       # the agreed yearly cost target the gain share is measured against
    council_share_bp: int          # the council's share of savings; the rest goes to the innovation fund
    homes: tuple[str, ...] = ()    # the homes whose cost lines the book opens


@dataclass(frozen=True)
class Terms:
    id: str
    la_code: str
    form: str
    start: date
    end: date | None = None                 # last day, inclusive
    scheme: str = CALENDAR_MONTH
    charge_arrival_day: bool = True
    charge_leaving_day: bool = False
    block_beds: int = 0
    block_weekly_pence: int = 0             # the block's weekly price (all N beds)
    open_book: OpenBook | None = None
    retainer_interventions: int = 0         # outreach: interventions a contract year the retainer covers
    retainer_yearly_pence: int = 0          # outreach: the retainer's yearly fee (12 monthly parts)

    @property
    def has_retainer(self) -> bool:
        return self.retainer_interventions > 0

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class FeeSchedule:
    id: str
    effective_from: date
    effective_to: date | None = None        # last day, inclusive; None: until further notice
    phase_1_weekly: int | None = None       # enhanced assessment fee, pence a week
    phase_2_weekly: int | None = None       # standard therapeutic fee
    blended_weekly: int | None = None       # one fee for the whole stay (blended contracts)
    outreach_weekly: int | None = None      # weekly outreach support, pence a week (issue 16)
    outreach_fixed: int | None = None       # a fixed-fee (six-week) outreach intervention, pence per intervention

    @property
    def prices_outreach(self) -> bool:
        return self.outreach_weekly is not None or self.outreach_fixed is not None

    @property
    def prices_beds(self) -> bool:
        return any(r is not None for r in (self.phase_1_weekly, self.phase_2_weekly, self.blended_weekly))

    def covers(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)

    def weekly(self, form: str, phase: str) -> tuple[str, int | None]:
        if form == BLENDED:
            return "blended", self.blended_weekly
        return (phase, self.phase_2_weekly) if phase == "phase_2" else ("phase_1", self.phase_1_weekly)


@dataclass(frozen=True)
class AddOn:
    id: str
    placement_id: str
    kind: str
    weekly_pence: int
    start: date
    end: date | None = None                 # last day, inclusive


def check_terms(t: Terms) -> None:
    if t.form not in FORMS:
        raise ContractError("body.form", "contract_form", f"one of {', '.join(FORMS)}")
    if t.end is not None and t.end < t.start:
        raise ContractError("body.end_date", "end_not_before_start", "a contract cannot end before it starts")
    if t.form == BLOCK:
        if t.block_beds < 1:
            raise ContractError("body.block.beds", "at_least_one", "a block contract buys at least one bed")
        if t.end is None:
            raise ContractError("body.end_date", "block_term", "a block contract has a term: give its end date")
        if t.block_weekly_pence <= 0:
            raise ContractError("body.block.weekly_price", "required", "a block contract has a block price")
    elif t.block_beds or t.block_weekly_pence:
        raise ContractError("body.block", "block_only", "only a block contract has a block")
    if t.form == OPEN_BOOK and t.open_book is None:
        raise ContractError("body.open_book", "required", "an open-book contract states its margin and target")
    if (t.retainer_interventions > 0) != (t.retainer_yearly_pence > 0):
        raise ContractError("body.outreach_retainer", "required", "a retainer has its interventions and yearly fee")
    if t.open_book is not None:
        if t.form != OPEN_BOOK:
            raise ContractError("body.open_book", "open_book_only", "only an open-book contract has open-book terms")
        if not 0 <= t.open_book.council_share_bp <= 10000:
            raise ContractError("body.open_book.council_share_percent", "percent", "between 0 and 100")


def check_schedule(terms: Terms, new: FeeSchedule, existing: Iterable[FeeSchedule]) -> None:
    """Dates in order, the rates the form needs, and no overlap with another schedule of the contract."""
    if new.effective_to is not None and new.effective_to < new.effective_from:
        raise ContractError("body.effective_to", "end_not_before_start", "a schedule cannot end before it starts")
    if new.prices_outreach and not new.prices_beds:
        pass  # an outreach-only schedule (a council buying outreach and no beds)
    elif terms.form == BLENDED:
        if new.blended_weekly is None:
            raise ContractError("body.blended_weekly", "required", "a blended contract's schedule has a blended fee")
    else:
        for name in ("phase_1_weekly", "phase_2_weekly"):
            if getattr(new, name) is None:
                raise ContractError(f"body.{name}", "required", f"a {terms.form} contract's schedule has {name}")
    for old in existing:
        starts_before_old_ends = old.effective_to is None or new.effective_from <= old.effective_to
        ends_after_old_starts = new.effective_to is None or new.effective_to >= old.effective_from
        if starts_before_old_ends and ends_after_old_starts:
            raise ContractError("body.effective_from", "no_overlap",
                                f"overlaps the schedule from {old.effective_from}"
                                f"{' to ' + str(old.effective_to) if old.effective_to else ' (open-ended)'}; "
                                "end that one first")


def check_add_on(add_on: AddOn) -> None:
    if add_on.kind not in ADD_ON_KINDS:
        raise ContractError("body.kind", "add_on_kind", f"one of {', '.join(ADD_ON_KINDS)}")
    if add_on.end is not None and add_on.end < add_on.start:
        raise ContractError("body.end_date", "end_not_before_start", "an add-on cannot end before it starts")


def buys_beds(terms: Terms, schedules: Iterable[FeeSchedule]) -> bool:
    """Whether a contract takes placements: not one that buys outreach only (a retainer, or schedules with outreach
    rates and no bed rates), so a council's outreach contract never leaves its placements unpriced."""
    schedules = list(schedules)
    if terms.form == BLOCK or terms.open_book is not None or any(s.prices_beds for s in schedules):
        return True
    return not (terms.has_retainer or any(s.prices_outreach for s in schedules))


def contract_for(contracts: Iterable[Terms], la_code: str, arrival: date,
                 schedules: dict[str, Iterable[FeeSchedule]] | None = None) -> Terms | None:
    """The contract a placement is charged under: the council's contract in force on the arrival day that buys
    beds (the latest-starting one if several are); `schedules` (by contract id) tells an outreach-only contract."""
    found = [c for c in contracts if c.la_code == la_code and c.covers(arrival)
             and (schedules is None or buys_beds(c, schedules.get(c.id, ())))]
    return max(found, key=lambda c: (c.start, c.id)) if found else None


@dataclass
class OpenBookYear:
    year: int
    cost_pence: int
    margin_pence: int
    price_pence: int
    target_pence: int
    savings_pence: int
    council_share_pence: int
    innovation_fund_pence: int
    cost_lines: list[dict] = field(default_factory=list)


def _round_half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def open_book_year(book: OpenBook, year: int, cost_lines: list[dict]) -> OpenBookYear:
    """Cost plus the agreed margin; savings against the target split between the council and the
    innovation fund (the council's share rounded half up, the fund takes the rest, so nothing is lost)."""
    cost = sum(line["amount_pence"] for line in cost_lines)
    margin = _round_half_up(cost * book.margin_bp, 10000)
    savings = max(0, book.annual_target_pence - cost)
    council = _round_half_up(savings * book.council_share_bp, 10000)
    return OpenBookYear(year=year, cost_pence=cost, margin_pence=margin, price_pence=cost + margin,
                        target_pence=book.annual_target_pence, savings_pence=savings, council_share_pence=council,
                        innovation_fund_pence=savings - council, cost_lines=cost_lines)
