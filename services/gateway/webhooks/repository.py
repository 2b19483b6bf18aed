"""All of the webhooks' SQL: endpoints (read through `readable_endpoints`, narrowed to the caller's council),
the delivery log, the fan-out's inserts and the delivery worker's claim and bookkeeping. Callers pass the
session (of a unit of work for writes); nothing here commits."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import restrictions as restriction_rules
from libs.common.auth import Principal
from libs.common.tenancy import readable

from ..domain.webhooks import WITHHELD, WITHHELD_FOR_RESTRICTION
from ..tables import child_record_links, restricted_children, webhook_attempts, webhook_deliveries, webhook_endpoints

E, D, A, L = webhook_endpoints, webhook_deliveries, webhook_attempts, child_record_links
DUE_STATES = ("pending", "failed", "redeliver")  # redeliver: asked for by hand
OWED_STATES = DUE_STATES


# --- endpoints ----------------------------------------------------------------------------------------
def readable_endpoints(principal: Principal) -> Select:
    """The statement every read of an endpoint starts from: a council sees its own, the hub all."""
    return readable(select(E), principal, E.c.la_code)


async def get_endpoint(session: AsyncSession, principal: Principal, endpoint_id: str, *,
                       for_update: bool = False) -> dict | None:
    stmt = readable_endpoints(principal).where(E.c.id == endpoint_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).mappings().first()
    return dict(row) if row else None


async def list_endpoints(session: AsyncSession, principal: Principal) -> list[dict]:
    rows = (await session.execute(readable_endpoints(principal).order_by(E.c.created_at))).mappings().all()
    return [dict(r) for r in rows]


async def endpoint_by_url(session: AsyncSession, la_code: str, url: str) -> dict | None:
    row = (await session.execute(select(E).where(E.c.la_code == la_code, E.c.url == url))).mappings().first()
    return dict(row) if row else None


async def insert_endpoint(session: AsyncSession, row: dict) -> None:
    await session.execute(E.insert().values(**row))


async def update_endpoint(session: AsyncSession, endpoint_id: str, version: int, changes: dict[str, Any],
                          now: datetime) -> bool:
    """Apply changes if the endpoint is still at `version`; False when it moved on meanwhile."""
    result = await session.execute(update(E).where(E.c.id == endpoint_id, E.c.version == version)
                                   .values(**changes, version=version + 1, updated_at=now))
    return result.rowcount == 1


async def delete_endpoint(session: AsyncSession, endpoint_id: str) -> None:
    """The endpoint, its deliveries and their attempts."""
    ids = select(D.c.id).where(D.c.endpoint_id == endpoint_id)
    await session.execute(delete(A).where(A.c.delivery_id.in_(ids)))
    await session.execute(delete(D).where(D.c.endpoint_id == endpoint_id))
    await session.execute(delete(E).where(E.c.id == endpoint_id))


async def enable_endpoint(session: AsyncSession, endpoint_id: str, now: datetime) -> None:
    """Active again with a clean failure count; deliveries still owed are due at once."""
    await session.execute(update(E).where(E.c.id == endpoint_id).values(
        active=True, disabled_reason=None, disabled_at=None, consecutive_failures=0, failing_since=None,
        version=E.c.version + 1, updated_at=now))
    await session.execute(update(D).where(D.c.endpoint_id == endpoint_id, D.c.state.in_(OWED_STATES))
                          .values(next_attempt_at=now, updated_at=now))


async def replace_secret(session: AsyncSession, endpoint_id: str, secret: str, previous: str,
                         previous_until: datetime, now: datetime) -> None:
    await session.execute(update(E).where(E.c.id == endpoint_id).values(
        secret=secret, previous_secret=previous, previous_secret_until=previous_until,
        version=E.c.version + 1, updated_at=now))


# --- the delivery log -----------------------------------------------------------------------------------
async def deliveries(session: AsyncSession, endpoint_id: str, state: str | None, limit: int) -> list[dict]:
    """Newest first, each with its attempts (oldest first) under "log"."""
    stmt = select(D).where(D.c.endpoint_id == endpoint_id).order_by(D.c.created_at.desc()).limit(limit)
    if state:
        stmt = stmt.where(D.c.state == state)
    rows = [dict(r) for r in (await session.execute(stmt)).mappings().all()]
    if not rows:
        return rows
    attempts = (await session.execute(select(A).where(A.c.delivery_id.in_([r["id"] for r in rows]))
                                      .order_by(A.c.id))).mappings().all()
    log: dict[str, list[dict]] = {}
    for a in attempts:
        log.setdefault(a["delivery_id"], []).append(dict(a))
    return [{**r, "log": log.get(r["id"], [])} for r in rows]


async def get_delivery(session: AsyncSession, endpoint_id: str, delivery_id: str) -> dict | None:
    row = (await session.execute(select(D).where(D.c.id == delivery_id, D.c.endpoint_id == endpoint_id))
           ).mappings().first()
    return dict(row) if row else None


async def mark_redeliver(session: AsyncSession, endpoint_id: str, delivery_id: str, now: datetime) -> dict | None:
    found = await session.execute(update(D).where(D.c.id == delivery_id, D.c.endpoint_id == endpoint_id)
                                  .values(state="redeliver", next_attempt_at=now, updated_at=now))
    if found.rowcount == 0:
        return None
    row = (await session.execute(select(D).where(D.c.id == delivery_id))).mappings().first()
    return dict(row)


# --- fan-out ----------------------------------------------------------------------------------------------
# The fan-out's reads, run for every event the gateway consumes: statements built once, run with bind parameters
# (building a statement and its cache key each time cost more CPU than running it)
_ACTIVE_ENDPOINTS = select(E.c.id, E.c.event_types).where(E.c.la_code == bindparam("la_code"), E.c.active.is_(True))
_WITH_DELIVERY = select(D.c.endpoint_id).where(D.c.event_id == bindparam("event_id"),
                                               D.c.endpoint_id.in_(bindparam("endpoint_ids", expanding=True)))
_LINKED = select(L.c.record_id).where(L.c.record_id.in_(bindparam("record_ids", expanding=True)))
_CHILD_OF_RECORDS = select(L.c.referral_id).where(L.c.record_id.in_(bindparam("record_ids", expanding=True))).limit(1)


async def active_endpoints_of(session: AsyncSession, la_code: str) -> list[tuple[str, list[str]]]:
    """(id, event_types) of a council's active endpoints."""
    rows = (await session.execute(_ACTIVE_ENDPOINTS, {"la_code": la_code})).all()
    return [(r.id, list(r.event_types)) for r in rows]


async def endpoints_with_delivery(session: AsyncSession, event_id: str, endpoint_ids: list[str]) -> set[str]:
    return set((await session.execute(_WITH_DELIVERY, {"event_id": event_id,
                                                       "endpoint_ids": list(endpoint_ids)})).scalars())


async def insert_deliveries(session: AsyncSession, rows: list[dict]) -> None:
    await session.execute(D.insert(), rows)


# --- restrictions of processing (decision 0006; libs.common.restrictions) --------------------------------------
async def link_child_records(session: AsyncSession, links: tuple[tuple[str, str], ...], now: datetime) -> None:
    """Keep which child's record each placement or intervention is (first link kept; a record has one child)."""
    wanted = dict(links)
    if not wanted:
        return
    known = set((await session.execute(_LINKED, {"record_ids": list(wanted)})).scalars())
    fresh = [dict(record_id=r, referral_id=c, linked_at=now) for r, c in wanted.items() if r not in known]
    if fresh:
        await session.execute(L.insert(), fresh)


async def child_of_records(session: AsyncSession, record_ids: tuple[str, ...]) -> str | None:
    """The child's record (referral id) a placement or intervention was linked to, if one was."""
    if not record_ids:
        return None
    return (await session.execute(_CHILD_OF_RECORDS, {"record_ids": list(record_ids)})).scalar()


async def restrictions_in_force(session: AsyncSession, referral_ids) -> dict[str, dict]:
    """The first restriction in force of each of these children that has one."""
    return await restriction_rules.in_force(session, restricted_children, referral_ids)


async def withhold(session: AsyncSession, restriction_of: dict[str, str], now: datetime) -> None:
    """Deliveries (id -> restriction id) that are not to be sent: withheld, for good, and what they held dropped."""
    for delivery_id, restriction_id in restriction_of.items():
        await session.execute(update(D).where(D.c.id == delivery_id).values(
            state=WITHHELD, withheld_reason=WITHHELD_FOR_RESTRICTION, restriction_id=restriction_id, body="",
            next_attempt_at=None, updated_at=now))


# --- the delivery worker ----------------------------------------------------------------------------------
async def claim_due(session: AsyncSession, now: datetime, lease_until: datetime, batch: int, *,
                    skip_locked: bool) -> list[dict]:
    """Due deliveries of active endpoints, oldest due first, leased until `lease_until` so that no other
    worker claims them meanwhile (FOR UPDATE SKIP LOCKED on Postgres)."""
    stmt = (select(D.c.id, D.c.body, D.c.attempts, D.c.state, D.c.endpoint_id, D.c.event_type, D.c.referral_id,
                   E.c.url, E.c.secret, E.c.previous_secret, E.c.previous_secret_until)
            .join(E, E.c.id == D.c.endpoint_id)
            .where(D.c.state.in_(DUE_STATES), D.c.next_attempt_at <= now, E.c.active.is_(True))
            .order_by(D.c.next_attempt_at).limit(batch))
    if skip_locked:
        stmt = stmt.with_for_update(skip_locked=True, of=D)
    rows = [dict(r) for r in (await session.execute(stmt)).mappings().all()]
    if rows:
        await session.execute(update(D).where(D.c.id.in_([r["id"] for r in rows]))
                              .values(next_attempt_at=lease_until, updated_at=now))
    return rows


async def record_attempt(session: AsyncSession, delivery_id: str, *, at: datetime, status_code: int | None,
                         error: str | None, duration_ms: int, manual: bool, state: str,
                         next_attempt_at: datetime | None) -> None:
    await session.execute(A.insert().values(delivery_id=delivery_id, attempted_at=at, status_code=status_code,
                                            error=error, duration_ms=duration_ms, manual=manual))
    await session.execute(update(D).where(D.c.id == delivery_id).values(
        attempts=D.c.attempts + 1, last_status_code=status_code, updated_at=at, state=state,
        next_attempt_at=next_attempt_at))


async def reset_failures(session: AsyncSession, endpoint_id: str) -> None:
    await session.execute(update(E).where(E.c.id == endpoint_id).values(consecutive_failures=0,
                                                                        failing_since=None))


async def count_failure(session: AsyncSession, endpoint_id: str, now: datetime):
    """One more failure in a row; returns (active, la_code, consecutive_failures, failing_since)."""
    await session.execute(update(E).where(E.c.id == endpoint_id).values(
        consecutive_failures=E.c.consecutive_failures + 1, updated_at=now))
    await session.execute(update(E).where(and_(E.c.id == endpoint_id, E.c.failing_since.is_(None)))
                          .values(failing_since=now))
    return (await session.execute(select(E.c.active, E.c.la_code, E.c.consecutive_failures, E.c.failing_since)
                                  .where(E.c.id == endpoint_id))).first()


async def disable_endpoint(session: AsyncSession, endpoint_id: str, reason: str, now: datetime) -> None:
    await session.execute(update(E).where(E.c.id == endpoint_id).values(
        active=False, disabled_reason=reason, disabled_at=now, version=E.c.version + 1, updated_at=now))
