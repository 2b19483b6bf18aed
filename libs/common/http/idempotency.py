"""Idempotency-Key (draft-ietf-httpapi-idempotency-key-header), one mechanism for every service.

One table shape per service (`idempotent_requests`, created by `idempotency_table` in the service's
metadata and migrations), one canonical request fingerprint, the same answers everywhere:
- the first request with a key runs, and its response is stored in the same transaction as its change;
- the same key with the same request answers the stored response again (header `Idempotent-Replayed: true`);
- the same key with another request (method, path or body) is 422 `idempotency-key-reused`;
- the same key while the first request is still running is 409 `idempotency-key-in-flight` with Retry-After.
Keys belong to the client that sent them (the token's subject) and are kept for
`ITP_IDEMPOTENCY_RETENTION_HOURS`; `purge_idempotency_keys` removes older ones (a periodic job).
"""
from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Header
from fastapi.encoders import jsonable_encoder
from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, UniqueConstraint, delete

from ..errors import PROBLEM_BASE, ProblemError
from ..types import UtcDateTime

IDEMPOTENCY_TABLE = "idempotent_requests"
KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # visible ASCII, as the draft's examples


def idempotency_table(metadata: MetaData) -> Table:
    """The one shape of a service's idempotency store."""
    return Table(
        IDEMPOTENCY_TABLE, metadata,
        Column("client_id", String(120), nullable=False),
        Column("key", String(255), nullable=False),
        Column("route", String(200), nullable=False),
        Column("body_sha256", String(64), nullable=False),
        Column("status_code", Integer, nullable=False),
        Column("response", JSON, nullable=False),   # {"body", "headers", "child_records"}
        Column("created_at", UtcDateTime(), nullable=False, index=True),
        UniqueConstraint("client_id", "key", name="uq_idempotent_requests_client_key"),
        extend_existing=True,
    )


def create_idempotency_table(op) -> None:
    """Alembic helper: create the table as defined above."""
    idempotency_table(MetaData()).create(op.get_bind())


def request_fingerprint(method: str, path: str, body: Any) -> str:
    """SHA-256 of the request as canonical JSON: method, path and body, keys sorted, no whitespace."""
    canonical = json.dumps([method.upper(), path, jsonable_encoder(body)], sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_key(key: str) -> str:
    if not KEY.match(key):
        raise ProblemError(400, "Invalid Idempotency-Key", "Idempotency-Key must be 1 to 255 visible ASCII "
                           "characters (a UUID is a good choice).", type_=PROBLEM_BASE + "idempotency-key-invalid",
                           errors=[{"field": "header.idempotency-key", "rule": "visible_ascii_1_255",
                                    "message": "1 to 255 visible ASCII characters"}])
    return key


def key_missing() -> ProblemError:
    return ProblemError(400, "Idempotency-Key required", "Send an Idempotency-Key header (a UUID is a good choice) "
                        "so that a retried request cannot make the change twice.",
                        type_=PROBLEM_BASE + "idempotency-key-missing",
                        errors=[{"field": "header.idempotency-key", "rule": "required",
                                 "message": "Idempotency-Key is required for this request"}])


def key_reused() -> ProblemError:
    return ProblemError(422, "Idempotency-Key reused", "This Idempotency-Key was already used with a different "
                        "request. Use a new key for a new request.", type_=PROBLEM_BASE + "idempotency-key-reused",
                        errors=[{"field": "header.idempotency-key", "rule": "idempotency_key_reused",
                                 "message": "same key, different request"}])


def key_in_flight() -> ProblemError:
    return ProblemError(409, "Idempotency-Key in use", "A request with this Idempotency-Key is still being "
                        "processed. Retry after a moment to get its answer.",
                        type_=PROBLEM_BASE + "idempotency-key-in-flight", headers={"Retry-After": "1"})


async def purge_idempotency_keys(runtime, older_than: timedelta, now: datetime) -> int:
    """Forget keys older than the retention window; returns how many. Safe on several replicas."""
    table = runtime.metadata.tables[IDEMPOTENCY_TABLE]
    async with runtime.uow() as uow:
        result = await uow.session.execute(delete(table).where(table.c.created_at < now - older_than))
        await uow.commit()
    return result.rowcount or 0


_DESCRIPTION = ("The same key with the same request answers the first response again; with another request "
                "it is refused (422); while the first is still running, 409. A UUID is a good choice.")

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", description="Recommended. " + _DESCRIPTION)]
RequiredIdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", description="Required. " + _DESCRIPTION,
                                                      json_schema_extra={"x-itp-required": True})]
