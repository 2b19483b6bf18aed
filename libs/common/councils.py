"""Councils by both of their identifiers: the ONS code the system keys on (E10000018) and the DfE's
three-digit LA number (855) that the SSDA903 return and the DfE's children's social care data use.

Reference data for the councils the demo and tests use (beside their names in libs.common.vocabulary.COUNCILS);
an unknown code has no number (None), never an error."""
from __future__ import annotations

from libs.common.vocabulary import COUNCILS

# ONS code -> DfE LA number (the "LA code" of the DfE's statistics and returns)
DFE_LA_NUMBERS: dict[str, str] = {
    "E10000018": "855",  # Leicestershire
    "E10000019": "925",  # Lincolnshire
    "E10000024": "891",  # Nottinghamshire
    "E10000007": "830",  # Derbyshire
    "E06000016": "856",  # Leicester
    "E06000018": "892",  # Nottingham
    "E06000015": "831",  # Derby
    "E06000017": "857",  # Rutland
    "E08000025": "330",  # Birmingham
    "E08000026": "331",  # Coventry
    "E09000001": "201",  # City of London
}
ONS_CODES: dict[str, str] = {number: ons for ons, number in DFE_LA_NUMBERS.items()}


def dfe_la_number(ons_code: str | None) -> str | None:
    return DFE_LA_NUMBERS.get(ons_code) if ons_code else None


def ons_code(dfe_number: str | None) -> str | None:
    return ONS_CODES.get(dfe_number) if dfe_number else None


def council(ons: str) -> dict:
    """A council as both identifiers and its name: {ons_code, dfe_la_number, name}."""
    return {"ons_code": ons, "dfe_la_number": dfe_la_number(ons), "name": COUNCILS.get(ons)}


def councils() -> list[dict]:
    return [council(ons) for ons in sorted(set(COUNCILS) | set(DFE_LA_NUMBERS))]
