"""One write path: a change runs in one unit of work, committed here and nowhere else.

A route builds an `op(uow) -> Written` from the service layer's application operations (which take the
unit of work and never commit) and hands it to `write`. `write` opens the unit of work, applies the
Idempotency-Key rules (see idempotency.py), runs the operation, stores the response with the key in the
same transaction, commits, names the child records touched for the access log and answers. Domain
errors raised by the operation roll everything back and reach the app's problem mapping unchanged.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable, Sequence

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from ..audit import touched
from .idempotency import (IDEMPOTENCY_TABLE, check_key, key_in_flight, key_missing, key_reused,
                          request_fingerprint)


@dataclass
class Written:
    """What an operation answers: the body, the child records it touched, the status and headers."""

    body: Any
    child_records: Sequence[str | None] = ()
    status_code: int = 200
    headers: dict[str, str] = field(default_factory=dict)


Operation = Callable[[Any], Awaitable[Written]]
REPLAY_HEADER = "Idempotent-Replayed"


def _lock_id(service: str, client_id: str, key: str) -> int:
    digest = hashlib.sha256(f"itp-idempotency:{service}:{client_id}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _replay(request: Request, row, fingerprint: str) -> JSONResponse:
    if row["body_sha256"] != fingerprint:
        raise key_reused()
    stored = row["response"]
    touched(request, *stored.get("child_records", ()))
    return JSONResponse(stored["body"], status_code=row["status_code"],
                        headers={**stored.get("headers", {}), REPLAY_HEADER: "true"})


async def write(request: Request, principal, op: Operation, *, key: str | None = None, body: Any = None,
                key_required: bool = False) -> JSONResponse:
    """Run `op` in one unit of work and commit; with an Idempotency-Key, exactly once per key."""
    runtime = request.app.state.runtime
    if key is None and key_required:
        raise key_missing()
    if key is None:
        async with runtime.uow() as uow:
            written = await op(uow)
            content = jsonable_encoder(written.body)
            await uow.commit()
        touched(request, *written.child_records)
        return JSONResponse(content, status_code=written.status_code, headers=written.headers)

    check_key(key)
    table = runtime.metadata.tables[IDEMPOTENCY_TABLE]
    fingerprint = request_fingerprint(request.method, request.url.path, body)
    client_id = principal.client_id
    prior_q = select(table).where(table.c.client_id == client_id, table.c.key == key)
    in_flight: set = runtime.__dict__.setdefault("_idempotency_in_flight", set())
    local = (client_id, key)
    if local in in_flight:
        raise key_in_flight()
    in_flight.add(local)
    try:
        try:
            async with runtime.uow() as uow:
                if runtime.db.is_postgres:
                    # held until this transaction ends: another replica's request with the key is told 409
                    got = (await uow.session.execute(text("SELECT pg_try_advisory_xact_lock(:k)"),
                                                     {"k": _lock_id(runtime.service, client_id, key)})).scalar_one()
                    if not got:
                        raise key_in_flight()
                prior = (await uow.session.execute(prior_q)).mappings().first()
                if prior is not None:
                    return _replay(request, prior, fingerprint)
                written = await op(uow)
                content = jsonable_encoder(written.body)
                records = [str(r) for r in written.child_records if r is not None]
                await uow.session.execute(table.insert().values(
                    client_id=client_id, key=key, route=f"{request.method} {request.url.path}"[:200],
                    body_sha256=fingerprint, status_code=written.status_code,
                    response={"body": content, "headers": written.headers, "child_records": records},
                    created_at=datetime.now(timezone.utc)))
                await uow.commit()
        except IntegrityError:
            # the key was committed by a request that slipped past the lock (another process on SQLite)
            async with runtime.db.session() as session:
                prior = (await session.execute(prior_q)).mappings().first()
            if prior is None:
                raise
            return _replay(request, prior, fingerprint)
    finally:
        in_flight.discard(local)
    touched(request, *records)
    return JSONResponse(content, status_code=written.status_code, headers=written.headers)
