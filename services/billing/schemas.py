"""Billing's HTTP contract. Money travels as a decimal string with its currency ({"amount": "5200.00",
"currency": "GBP"}); amounts are integer pence inside."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from libs.common.restrictions import RESTRICTION_FIELD, RestrictionMarker

from .domain.money import CURRENCY, format_pence


class Money(BaseModel):
    amount: str = Field(examples=["5200.00"], description="Pounds as a decimal string; whole pence only")
    currency: str = Field(examples=[CURRENCY], description="GBP")

    @classmethod
    def of(cls, pence: int | None) -> "Money | None":
        return None if pence is None else cls(amount=format_pence(pence), currency=CURRENCY)


class PeriodTerms(BaseModel):
    kind: Literal["calendar_month", "four_weekly"] = "calendar_month"
    anchor: date | None = Field(default=None, description="Four-weekly: the first day of a period")


class BlockIn(BaseModel):
    beds: int = Field(ge=1, le=1000)
    weekly_price: Money = Field(description="The block's weekly price for all its beds")


class OpenBookIn(BaseModel):
    margin_percent: str = Field(examples=["12.5"], description="Agreed margin on cost, percent (2 places at most)")
    annual_target: Money = Field(description="The yearly cost target the gain share is measured against")
    council_share_percent: int = Field(ge=0, le=100, description="The council's share of savings; the rest "
                                                                 "goes to the innovation fund")
    homes: list[uuid.UUID] = []


class RetainerIn(BaseModel):
    interventions: int = Field(ge=1, le=1000, description="Outreach interventions a contract year the retainer covers "
                                                          "(fixed-fee ones; beyond them, each at the fixed fee)")
    yearly_fee: Money = Field(description="Charged in 12 monthly parts, one on the first day of each contract month")


class ContractIn(BaseModel):
    la_code: str = Field(pattern=r"^E\d{8}$", examples=["E10000018"])
    name: str = Field(min_length=1, max_length=200)
    form: Literal["spot", "block", "blended", "open_book"]
    start_date: date
    end_date: date | None = None
    period: PeriodTerms = PeriodTerms()
    charge_arrival_day: bool = True
    charge_leaving_day: bool = False
    block: BlockIn | None = None
    open_book: OpenBookIn | None = None
    outreach_retainer: RetainerIn | None = Field(default=None, description="A yearly outreach retainer (issue 16)")


class ScheduleIn(BaseModel):
    effective_from: date
    effective_to: date | None = Field(default=None, description="Last day, inclusive; none: until further notice")
    phase_1_weekly: Money | None = Field(default=None, description="Enhanced assessment fee a week")
    phase_2_weekly: Money | None = Field(default=None, description="Standard therapeutic fee a week")
    blended_weekly: Money | None = Field(default=None, description="Blended contracts: one fee a week")
    outreach_weekly: Money | None = Field(default=None, description="Weekly outreach support, a week (charged by day "
                                                                    "from an intervention's start to its close)")
    outreach_fixed: Money | None = Field(default=None, description="A fixed-fee (six-week) outreach intervention, "
                                                                   "charged once in the period it starts")


class ScheduleOut(BaseModel):
    id: str
    effective_from: date
    effective_to: date | None
    phase_1_weekly: Money | None
    phase_2_weekly: Money | None
    blended_weekly: Money | None
    outreach_weekly: Money | None = None
    outreach_fixed: Money | None = None


class AddOnIn(BaseModel):
    placement_id: uuid.UUID
    kind: Literal["one_to_one", "two_to_one", "outreach"]
    weekly_fee: Money
    start_date: date
    end_date: date | None = None


class AddOnOut(BaseModel):
    id: str
    placement_id: str
    kind: str
    weekly_fee: Money
    start_date: date
    end_date: date | None


class ContractOut(BaseModel):
    id: str
    la_code: str
    name: str
    form: str
    start_date: date
    end_date: date | None
    scheme: str = Field(description="The fee-period scheme its invoices follow")
    charge_arrival_day: bool
    charge_leaving_day: bool
    block: dict | None
    open_book: dict | None
    outreach_retainer: dict | None = Field(default=None, description="{interventions, yearly_fee}")
    version: int
    fee_schedules: list[ScheduleOut]
    add_ons: list[AddOnOut]


class CloseIn(BaseModel):
    scheme: str = Field(default="calendar_month", examples=["calendar_month", "four_weekly@2025-01-06"])
    period_start: date


class InvoiceSummary(BaseModel):
    id: str
    number: str = Field(examples=["INV-E10000018-000042"])
    kind: Literal["invoice", "credit_note"]
    la_code: str
    contract_id: str
    fee_period_id: str
    period_start: date
    period_end: date
    total: Money
    issued_at: datetime


class FeePeriodOut(BaseModel):
    id: str
    scheme: str
    period_start: date
    period_end: date
    closed_at: datetime
    closed_by: str
    unpriced: list[dict] = Field(description="Placements with days no schedule priced (charged once priced)")
    invoices: list[InvoiceSummary] | None = None


class LineReference(BaseModel):
    line_id: str
    invoice_id: str
    invoice_number: str
    line_no: int


class InvoiceLineOut(BaseModel):
    line_no: int
    id: str
    kind: Literal["charge", "late", "adjustment"]
    description: str | None
    placement_id: str | None
    child_ref: str | None = Field(description="The council's reference for the child (never a name)")
    home_id: str | None
    from_date: date
    to_date: date = Field(description="Last day charged, inclusive")
    days: int
    weekly_fee: Money | None
    daily_rate: str | None = Field(description="Weekly fee / 7, pounds to 4 places (amounts carry rounding "
                                               "cumulatively, never from this display)")
    amount: Money
    refers_to: LineReference | None = Field(description="An adjustment: the original line it corrects")
    stream: str | None = Field(default=None, examples=["fee", "outreach"], description=(
        "fee, add_on:<id>, block or outreach"))
    rate_key: str | None = Field(default=None, examples=["phase_1", "outreach_weekly"], description=(
        "phase_1, phase_2, blended, add_on:<kind>, block, outreach_weekly, outreach_fixed or outreach_retainer"))
    intervention_id: str | None = Field(default=None, description="An outreach line: the intervention")
    child_withheld: bool = Field(default=False, description=(
        "A council's view of a line for a child whose record is under a restriction of processing (decision "
        "0006): the amount stays invoiced, child_ref, placement_id, home_id and intervention_id are withheld"))
    restriction: RestrictionMarker | None = RESTRICTION_FIELD


class InvoiceOut(InvoiceSummary):
    lines: list[InvoiceLineOut]


class CostIn(BaseModel):
    amount: Money
    category: str = Field(default="total", max_length=60, examples=["staffing", "premises", "total"])
