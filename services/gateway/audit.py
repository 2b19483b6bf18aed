"""The access log: who read or changed which child's record, through which client, when, and in
which request. Services name the child records a response touched (X-ITP-Child-Records); the gateway
writes one row per record before the response leaves, and strips the header.

If the row cannot be written the caller gets 503 instead of the data: an unaudited read of a
child's record must not happen (a change already committed upstream is safe to retry)."""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from libs.common.audit import CHILD_RECORDS_HEADER
from libs.common.auth import Authorize, Principal
from libs.common.errors import PROBLEM_BASE, field_problem, problem_response
from libs.common.observability import correlation_id_var, request_id_var

from .domain.audit import (child_records, decode_cursor, denied_child_record, encode_cursor, route_template,
                           verb)
from .principal import principal_of
from .repository import access_page, write_access

log = logging.getLogger("itp.gateway.audit")
_HEADER = CHILD_RECORDS_HEADER.encode()


class AccessAuditMiddleware:
    def __init__(self, app, runtime_of):
        self.app = app
        self.runtime_of = runtime_of

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        swallow = False

        async def _send(message):
            nonlocal swallow
            if swallow:
                return
            if message["type"] != "http.response.start":
                return await send(message)
            headers = list(message.get("headers", []))
            named = [v.decode("latin-1") for k, v in headers if k.lower() == _HEADER]
            message["headers"] = [(k, v) for k, v in headers if k.lower() != _HEADER]
            rows = await self._rows(scope, message["status"], child_records(",".join(named)))
            if rows:
                try:
                    await write_access(self.runtime_of().db, rows)
                except Exception:  # noqa: BLE001 - fail closed: no audit row, no data
                    log.exception("access log write failed; answering 503",
                                  extra={"child_records": len(rows), "path_template": rows[0]["route"]})
                    swallow = True
                    response = problem_response(503, "Service Unavailable",
                                                "The access could not be audited; please retry.",
                                                type_=PROBLEM_BASE + "audit-unavailable",
                                                headers={"Retry-After": "1"})
                    await response(scope, receive, send)
                    return
            await send(message)

        await self.app(scope, receive, _send)

    async def _rows(self, scope, status: int, ids: list[str]) -> list[dict]:
        path = scope.get("path", "")
        principal = None
        if ids or status in (403, 404):
            principal = await principal_of(scope, self.runtime_of().verifier)
        if not ids and status in (403, 404) and principal is not None and principal.is_council:
            denied = denied_child_record(path)
            ids = [denied] if denied else []
        if not ids:
            return []
        now = datetime.now(timezone.utc)
        method = scope.get("method", "GET")
        base = dict(at=now, client_id=principal.client_id if principal else None,
                    la_code=principal.la_code if principal else None, role=principal.role if principal else None,
                    action=verb(method, status), method=method, route=route_template(path), status=status,
                    request_id=request_id_var.get(), correlation_id=correlation_id_var.get())
        return [{**base, "child_record_id": i} for i in ids]


# --- the data-protection officer's view ---------------------------------------------------------
class AccessEntry(BaseModel):
    id: int
    at: datetime
    client_id: str | None = Field(examples=["council-E10000018"])
    la_code: str | None = Field(examples=["E10000018"])
    role: str | None = None
    child_record_id: str = Field(description="The child's record (its referral id)")
    action: str = Field(examples=["read", "create", "update", "delete", "denied"])
    method: str
    route: str = Field(examples=["GET /v1/referrals/{id}"])
    status: int
    request_id: str | None = None
    correlation_id: str | None = None


class AccessLogPage(BaseModel):
    items: list[AccessEntry]
    next_cursor: str | None = Field(default=None, description="Pass as ?cursor= for the next (older) page")


router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.get("/access", name="list_access_records", response_model=AccessLogPage, summary="Who read or changed a child's record")
async def access(request: Request, principal: Annotated[Principal, Authorize("audit:read", councils=False)],
                 child: Annotated[str | None, Query(max_length=64, description="A child record (referral) id")] = None,
                 client: Annotated[str | None, Query(max_length=64, description="An API client id")] = None,
                 since: Annotated[datetime | None, Query(description="From this instant (inclusive)")] = None,
                 until: Annotated[datetime | None, Query(description="Before this instant")] = None,
                 cursor: Annotated[str | None, Query(max_length=200)] = None,
                 limit: Annotated[int, Query(ge=1, le=500)] = 100) -> AccessLogPage:
    """For the hub's data-protection officer: newest first, by child record and/or by client.
    Councils cannot read it (their own access is in it, next to everyone else's)."""
    for bound, name in ((since, "since"), (until, "until")):
        if bound is not None and bound.tzinfo is None:
            raise field_problem(f"query.{name}", "timezone_aware",
                                "give the instant with its offset, e.g. 2026-11-23T09:00:00Z")
    before_id = None
    if cursor:
        try:
            before_id = decode_cursor(cursor)
        except ValueError:
            raise field_problem("query.cursor", "cursor", "not a cursor returned by this API") from None
    async with request.app.state.runtime.db.session() as session:
        rows = await access_page(session, limit, child=child, client=client, since=since, until=until,
                                 before_id=before_id)
    items = [AccessEntry(**{**r, "route": f"{r['method']} {r['route']}"}) for r in rows[:limit]]
    return AccessLogPage(items=items, next_cursor=encode_cursor(items[-1].id) if len(rows) > limit else None)
