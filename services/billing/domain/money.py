"""Money: integer pence inside, decimal strings with a currency outside. Pounds sterling only."""
from __future__ import annotations

import re

CURRENCY = "GBP"
_AMOUNT = re.compile(r"^(-?)(\d{1,9})(?:\.(\d{1,}))?$")


class MoneyError(ValueError):
    """An amount or currency the rules refuse; names the field and the rule."""

    def __init__(self, field: str, rule: str, message: str):
        super().__init__(message)
        self.field = field
        self.rule = rule


def parse_pence(amount: str, currency: str, field: str, *, allow_zero: bool = False) -> int:
    """'5200.00' GBP -> 520000. Refuses another currency, fractions of a penny and negative amounts."""
    if currency != CURRENCY:
        raise MoneyError(f"{field}.currency", "currency_gbp", f"fees are in {CURRENCY}, not {currency!r}")
    m = _AMOUNT.match(amount.strip()) if isinstance(amount, str) else None
    if m is None:
        raise MoneyError(f"{field}.amount", "decimal_string", "a decimal string such as '5200.00'")
    sign, pounds, frac = m.groups()
    frac = frac or ""
    if len(frac) > 2 and frac[2:].strip("0"):
        raise MoneyError(f"{field}.amount", "whole_pence", f"{amount} has a fraction of a penny")
    pence = int(pounds) * 100 + int((frac[:2] or "0").ljust(2, "0"))
    if sign:
        pence = -pence
    if pence < 0 or (pence == 0 and not allow_zero):
        raise MoneyError(f"{field}.amount", "positive", "the amount must be more than zero")
    return pence


def format_pence(pence: int) -> str:
    """520000 -> '5200.00'; -150 -> '-1.50'."""
    sign = "-" if pence < 0 else ""
    pence = abs(pence)
    return f"{sign}{pence // 100}.{pence % 100:02d}"


def money(pence: int) -> dict:
    return {"amount": format_pence(pence), "currency": CURRENCY}


def daily_rate(weekly_pence: int) -> str:
    """The daily rate as shown on a line: weekly / 7 in pounds to four places (the exact figure is
    weekly/7; amounts are rounded cumulatively, never from this display value)."""
    from fractions import Fraction
    from decimal import ROUND_HALF_UP, Decimal

    exact = Fraction(weekly_pence, 700)
    return str((Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(Decimal("0.0001"), ROUND_HALF_UP))
