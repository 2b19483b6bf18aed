"""Reads and writes of referrals. Every read starts from a statement narrowed to what the caller may
see (libs.common.tenancy.readable): another council's referral is simply not there."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Select, and_, case, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.events.catalogue import NeedOrRisk, ReferralReceived, ReferralUpdated
from libs.common.pagination import InvalidCursor, decode_cursor, encode_cursor
from libs.common.tenancy import readable

from .domain.referral import URGENCIES
from .domain.status import allowed_moves
from .tables import referrals

URGENCY_RANK = case({u: i for i, u in enumerate(URGENCIES)}, value=referrals.c.urgency, else_=len(URGENCIES))


def readable_referrals(principal: Principal) -> Select:
    return readable(select(referrals), principal, referrals.c.la_code)


async def get(session: AsyncSession, principal: Principal, referral_id: str, *, for_update: bool = False) -> dict | None:
    stmt = readable_referrals(principal).where(referrals.c.id == referral_id)
    if for_update:  # a row lock on Postgres; SQLite serialises writers anyway and renders nothing
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).mappings().first()
    return dict(row) if row else None


async def save(session: AsyncSession, row: dict, **values) -> dict | None:
    """Write a change guarded by the version read (optimistic concurrency): the new row, or None when
    someone else changed the referral first. Every change bumps the version, which is the ETag."""
    new = {**row, **values, "version": row["version"] + 1, "updated_at": datetime.now(timezone.utc)}
    done = await session.execute(referrals.update().where(
        referrals.c.id == row["id"], referrals.c.version == row["version"]).values(
        **values, version=new["version"], updated_at=new["updated_at"]))
    return new if done.rowcount == 1 else None


def to_response(row: dict, *, now: datetime | None = None, with_waiting: bool = False) -> dict:
    out = dict(row)
    out["allowed_moves"] = allowed_moves(row["status"])
    if with_waiting:
        now = now or datetime.now(timezone.utc)
        out["waiting_seconds"] = max(0, int((now - row["received_at"]).total_seconds()))
    return out


def received_event(row: dict) -> ReferralReceived:
    """The event of a referral: its coded facts only. Never the summary, never the social worker."""
    return ReferralReceived(**_event_fields(row))


def updated_event(row: dict) -> ReferralUpdated:
    return ReferralUpdated(**_event_fields(row), status=row["status"])


def _event_fields(row: dict) -> dict:
    return dict(referral_id=row["id"], child_ref=row["child_ref"], date_of_birth=row["date_of_birth"], sex=row["sex"],
                legal_status=row["legal_status"], home_outward_code=row["home_outward_code"],
                needs=[NeedOrRisk(**n) for n in row["needs"]], risks=[NeedOrRisk(**r) for r in row["risks"]],
                urgency=row["urgency"], wanted_start_date=row["wanted_start_date"], received_at=row["received_at"])


# --- cursor pagination (the cursor itself: libs.common.pagination) ------------------------------------
def _checked(values: list) -> list:
    if len(values[-1]) > 36:
        raise InvalidCursor("not a cursor")
    return values


def newest_first(stmt: Select, cursor: str | None) -> Select:
    """The default listing: newest referral first, keyed on (received_at, id)."""
    if cursor:
        at, ident = _checked(decode_cursor(cursor, "r", datetime, str))
        stmt = stmt.where(or_(referrals.c.received_at < at,
                              and_(referrals.c.received_at == at, referrals.c.id < ident)))
    return stmt.order_by(referrals.c.received_at.desc(), referrals.c.id.desc())


def next_newest_first(row: dict) -> str:
    return encode_cursor("r", row["received_at"], row["id"])


def decision_queue(stmt: Select, cursor: str | None) -> Select:
    """The hub's queue: most urgent first (crisis, urgent, planned), then the longest waiting."""
    if cursor:
        rank, at, ident = _checked(decode_cursor(cursor, "q", int, datetime, str))
        stmt = stmt.where(or_(URGENCY_RANK > rank,
                              and_(URGENCY_RANK == rank, or_(referrals.c.received_at > at,
                                                             and_(referrals.c.received_at == at,
                                                                  referrals.c.id > ident)))))
    return stmt.order_by(URGENCY_RANK, referrals.c.received_at, referrals.c.id)


def next_decision_queue(row: dict) -> str:
    return encode_cursor("q", URGENCIES.index(row["urgency"]), row["received_at"], row["id"])
