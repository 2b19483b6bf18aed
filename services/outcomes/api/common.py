"""Who may call the outcomes service, and dates in from the API."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Annotated

from libs.common.auth import Authorize, Principal

from ..domain.errors import OutcomeError

# councils read their own children's outcomes and their own sufficiency figures (outcomes:read by default)
Reader = Annotated[Principal, Authorize("outcomes:read")]
# the hub's home managers (their homes) and the hub record measures; councils do not
Recorder = Annotated[Principal, Authorize("outcomes:write", roles=("home_manager", "provider_admin"), councils=False)]


def today() -> date:
    return datetime.now(timezone.utc).date()


def now() -> datetime:
    return datetime.now(timezone.utc)


def date_range(start: date | None, end: date | None) -> tuple[date, date]:
    end = end or today()
    start = start or end.replace(year=end.year - 1)
    if end < start:
        raise OutcomeError("query.to", "end_not_before_start", "to is on or after from")
    if (end - start).days > 366 * 20:
        raise OutcomeError("query.from", "range_at_most_20_years", "a range of at most 20 years")
    return start, end
