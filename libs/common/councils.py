"""Councils by both of their identifiers: the ONS code the system keys on (E10000018) and the DfE's
three-digit LA number (855) that the SSDA903 return and the DfE's children's social care data use.

Reference data for the councils the demo and tests use (beside their names in libs.common.vocabulary.COUNCILS);
an unknown code has no number (None), never an error."""
from __future__ import annotations

import csv
import re
from functools import lru_cache
from pathlib import Path

from libs.common.vocabulary import COUNCILS

DISTRICT_COUNCILS = Path(__file__).resolve().parent / "data" / "district_councils.csv"

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


# --- which council a postcode district lies in (data/district_councils.csv, see data/README.md) ----------
@lru_cache(maxsize=1)
def _district_councils() -> dict[str, str]:
    with DISTRICT_COUNCILS.open(newline="") as f:
        return {r["district"].strip().upper(): r["ons_code"].strip() for r in csv.DictReader(f)}


def council_of_district(outward_code: str | None) -> str | None:
    """The ONS code of the council a postcode district lies in (for a district split between councils, the
    council holding most of it), or None where the data does not say (districts outside the councils listed
    in the file). Sub-districts (EC2V) read as their district (EC2)."""
    if not outward_code:
        return None
    code = re.sub(r"\s+", "", outward_code).upper()
    table = _district_councils()
    if code in table:
        return table[code]
    if code[:-1] in table and code[-1:].isalpha():
        return table[code[:-1]]
    return None


def outside_own_council(la_code: str | None, home_outward_code: str | None) -> bool | None:
    """Whether a home lies outside the council responsible for the child (the SSDA903 sense of an out-of-area
    placement): the home's district's council differs from the child's council. None when either is unknown."""
    home_council = council_of_district(home_outward_code)
    if not la_code or home_council is None:
        return None
    return home_council != la_code
