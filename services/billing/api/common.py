"""Who may call billing, and money in from the API."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Annotated

from libs.common.auth import Authorize, Principal

from ..domain.money import MoneyError, parse_pence

# councils read their own contracts and invoices (invoices:read, granted to councils by default)
Reader = Annotated[Principal, Authorize("invoices:read")]
# the hub's finance role (and the provider's admin) change contracts and close periods
FinanceWriter = Annotated[Principal, Authorize("billing:write", roles=("finance", "provider_admin"), councils=False)]
# viability is the provider's own business
HubReader = Annotated[Principal, Authorize("invoices:read", councils=False)]


def today() -> date:
    return datetime.now(timezone.utc).date()


def now() -> datetime:
    return datetime.now(timezone.utc)


def pence(money, field: str) -> int | None:
    return None if money is None else parse_pence(money.amount, money.currency, field)


def basis_points(percent: str, field: str) -> int:
    try:
        value = Decimal(percent)
    except InvalidOperation:
        raise MoneyError(field, "decimal_string", "a percentage such as '12.5'") from None
    bp = value * 100
    if bp != bp.to_integral_value() or not 0 <= bp <= 100000:
        raise MoneyError(field, "percent_2dp", "a percentage from 0 to 1000 with at most two places")
    return int(bp)
