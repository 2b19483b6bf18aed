"""Who may call the outcomes service, and dates in from the API."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator

from libs.common.auth import Authorize, Principal
from libs.common.councils import ons_code

from ..domain.errors import OutcomeError
from ..domain.timepoints import add_months

# councils read their own children's outcomes and their own sufficiency figures (outcomes:read by default)
Reader = Annotated[Principal, Authorize("outcomes:read")]
# the hub's home managers (their homes) and the hub record measures; councils do not
Recorder = Annotated[Principal, Authorize("outcomes:write", roles=("home_manager", "provider_admin"), councils=False)]


def today() -> date:
    return datetime.now(timezone.utc).date()


def now() -> datetime:
    return datetime.now(timezone.utc)


def date_range(start: date | None, end: date | None) -> tuple[date, date]:
    """The report's days: `from` by default a year before `to` (28 February before a 29th, the calendar's first
    day before its first year's end; the fuzzer found both answering 500 when the year was simply changed)."""
    end = end or today()
    if start is None:
        start = add_months(end, -12) if end.year > date.min.year else date.min
    if end < start:
        raise OutcomeError("query.to", "end_not_before_start", "to is on or after from")
    if (end - start).days > 366 * 20:
        raise OutcomeError("query.from", "range_at_most_20_years", "a range of at most 20 years")
    return start, end


def _council(value: str | None) -> str | None:
    """A council by its ONS code in any case (E10000018) or its DfE LA number (855), as the ONS code."""
    if value is None:
        return None
    if value.isascii() and value.isdigit():
        ons = ons_code(value)
        if ons is None:
            raise ValueError(f"no council known by the DfE LA number {value}")
        return ons
    return value.upper()


_COUNCIL_PATTERN = r"^([Ee]\d{8}|\d{3})$"
_COUNCIL_HELP = "The council's ONS code (E10000018) or its DfE LA number (855)"
# a council filter (a council's own caller always gets its own figures, whatever it asks)
LaCode = Annotated[str | None, Query(pattern=_COUNCIL_PATTERN, description=_COUNCIL_HELP), AfterValidator(_council)]
LaPath = Annotated[str, Path(pattern=_COUNCIL_PATTERN, description=_COUNCIL_HELP), AfterValidator(_council)]
