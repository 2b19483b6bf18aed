"""Billing's HTTP API: one module per resource, and its domain errors mapped to problems once.

contracts.py    contracts, fee schedules, add-ons and the open-book report (finance writes; councils read theirs)
fee_periods.py  closing a fee period (finance), and the closed periods
invoices.py     invoices and credit notes with their lines; downloads as JSON, CSV and PDF
viability.py    per home: occupancy, revenue by phase, cost base, break-even; the ramp-up projection
"""
from libs.common.errors import field_problem

from ..domain.contracts import ContractError
from ..domain.money import MoneyError
from ..domain.periods import PeriodError
from . import contracts, fee_periods, invoices, viability

ROUTERS = [contracts.router, fee_periods.router, invoices.router, viability.router]


def _field(exc) -> object:
    return field_problem(exc.field, exc.rule, str(exc))


PROBLEMS = {
    ContractError: _field,
    MoneyError: _field,
    PeriodError: _field,
}

__all__ = ["ROUTERS", "PROBLEMS"]
