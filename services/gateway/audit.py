"""The access log: who read or changed which child's record, through which client, when, and in
which request. Services name the child records a response touched (X-ITP-Child-Records); the gateway
writes one row per record before the response leaves, and strips the header.

If the row cannot be written the caller gets 503 instead of the data: an unaudited read of a
child's record must not happen (a change already committed upstream is safe to retry).

The rows are written by group commit (AuditWriter): each response waits until its rows are committed, and the
rows of every response waiting at that moment go in one INSERT and one commit. So the guarantee is unchanged
(no answer naming a child's record leaves before its access-log row is durable; if the commit fails, each of
those answers is a 503), while the database sees one transaction per batch instead of one per request."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from libs.common.audit import CHILD_RECORDS_HEADER
from libs.common.auth import Authorize, Principal
from libs.common.errors import PROBLEM_BASE, field_problem, problem_response
from libs.common.observability import correlation_id_var, request_id_var

from .domain.audit import (DENIED, child_records, decode_cursor, denied_child_record, encode_cursor, route_template,
                           verb)
from .principal import principal_of
from .repository import HeldConnection, access_page, insert_access, write_access

log = logging.getLogger("itp.gateway.audit")
_HEADER = CHILD_RECORDS_HEADER.encode()


class AuditBacklog(Exception):
    """More access-log rows are waiting than the writer holds: answered 503 like a failed write."""


class AuditWriter:
    """Group commit for the access log. write(rows) returns once the rows are committed (or raises); rows from
    concurrent responses are committed together, up to `max_batch` rows a transaction, by one task per process.
    At most `max_waiting` rows wait at once (beyond that write() refuses at once: bounded memory, and the
    caller answers 503). If a batch fails, its responses' rows are retried one response at a time, so that one
    bad row cannot cost the others their answer."""

    def __init__(self, db, *, max_batch: int = 500, max_waiting: int = 5000):
        self.db = db
        self.connection = HeldConnection(db)  # one statement per batch, no BEGIN/COMMIT or pool checkout
        self.max_batch = max_batch
        self.max_waiting = max_waiting
        self._queue: list[tuple[list[dict], asyncio.Future]] = []
        self._waiting = 0
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task | None = None
        self.commits = 0  # transactions (the load bench and the tests read them)
        self.rows = 0

    async def write(self, rows: list[dict]) -> None:
        if self._waiting + len(rows) > self.max_waiting:
            raise AuditBacklog()
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            self._wake = asyncio.Event()
            self._task = loop.create_task(self._run(), name="gateway access log writer")
        done = loop.create_future()
        self._queue.append((rows, done))
        self._waiting += len(rows)
        self._wake.set()
        await asyncio.shield(done)  # a caller that goes away still has its rows written

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                batch, count = [], 0
                while self._queue and (not batch or count + len(self._queue[0][0]) <= self.max_batch):
                    rows, done = self._queue.pop(0)
                    batch.append((rows, done))
                    count += len(rows)
                try:
                    await self._commit([r for rows, _ in batch for r in rows])
                    outcomes = [None] * len(batch)
                except Exception as exc:  # noqa: BLE001 - each response learns its own outcome
                    outcomes = [exc] if len(batch) == 1 else [await self._alone(rows) for rows, _ in batch]
                for (rows, done), outcome in zip(batch, outcomes):
                    self._waiting -= len(rows)
                    if done.done():
                        continue
                    if outcome is None:
                        done.set_result(None)
                    else:
                        done.set_exception(outcome)

    async def _alone(self, rows: list[dict]) -> Exception | None:
        try:
            await self._commit(rows)
        except Exception as exc:  # noqa: BLE001
            return exc
        return None

    async def _commit(self, rows: list[dict]) -> None:
        await self.connection.run(lambda conn: insert_access(conn, rows))
        self.commits += 1
        self.rows += len(rows)

    async def stop(self) -> None:
        """Write what is waiting, then stop."""
        if self._task is None:
            return
        for _ in range(100):
            if not self._queue or self._task.done():
                break
            await asyncio.sleep(0.01)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        await self.connection.close()


class AccessAuditMiddleware:
    def __init__(self, app, runtime_of, writer_of=None):
        self.app = app
        self.runtime_of = runtime_of
        self.writer_of = writer_of or (lambda: None)

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
                    writer = self.writer_of()
                    if writer is not None:
                        await writer.write(rows)
                    else:
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
        if ids or status in DENIED:
            principal = await principal_of(scope, self.runtime_of().verifier)
        if not ids and status in DENIED and principal is not None and principal.is_council:
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
    async with request.app.state.runtime.db.reader() as session:
        rows = await access_page(session, limit, child=child, client=client, since=since, until=until,
                                 before_id=before_id)
    items = [AccessEntry(**{**r, "route": f"{r['method']} {r['route']}"}) for r in rows[:limit]]
    return AccessLogPage(items=items, next_cursor=encode_cursor(items[-1].id) if len(rows) > limit else None)
