"""What every assessment route module shares: who may read and write, the documented answers, the
clock, and the page parameters."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Annotated

from fastapi import Query

from libs.common.auth import Authorize, Principal
from libs.common.pagination import MAX_CURSOR_LENGTH

PlacementReader = Annotated[Principal, Authorize("placements:read")]
PlanReader = Annotated[Principal, Authorize("plans:read")]
Writer = Annotated[Principal, Authorize("placements:write", roles=("hub", "home_manager", "provider_admin"),
                                        councils=False)]

CONFLICT = {409: {"description": "Not allowed in the record's current state (the allowed moves are listed), or "
                                 "a request with the same Idempotency-Key is still running"}}
MISSING = {404: {"description": "No such record for this caller (another council's record is not there)"}}
INVALID = {422: {"description": "Invalid fields: each names the field and the rule it broke; or an "
                                "Idempotency-Key reused with another request"}}
BAD_HEADER = {400: {"description": "A malformed Idempotency-Key or If-Match header"}}
WRITE_RESPONSES = {**MISSING, **CONFLICT, **INVALID, **BAD_HEADER,
                   200: {"description": "Done; or a retry with the same Idempotency-Key (header "
                                        "Idempotent-Replayed: true)"}}

Limit = Annotated[int, Query(ge=1, le=200, description="Page size")]
Cursor = Annotated[str | None, Query(max_length=MAX_CURSOR_LENGTH,
                                     description="next_cursor of the previous page of the same listing")]


def today() -> date:
    return datetime.now(timezone.utc).date()


def now() -> datetime:
    return datetime.now(timezone.utc)
