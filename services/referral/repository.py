"""Reads and writes of referrals. Every read starts from a statement narrowed to what the caller may
see (libs.common.tenancy.readable): another council's referral is simply not there."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import Select, and_, bindparam, case, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.events.catalogue import NeedOrRisk, ReferralReceived, ReferralStatusChanged, ReferralUpdated
from libs.common.ids import intervention_id_for, placement_id_for
from libs.common.pagination import InvalidCursor, decode_cursor, encode_cursor
from libs.common.restrictions import in_force
from libs.common.tenancy import readable, readable_bound, tenancy_params
from libs.common.vocabulary import SEX_TO_CODE, council_name

from .domain import placements_standard as ps
from .domain.referral import URGENCIES
from .domain.status import OPEN, allowed_moves
from .tables import referrals, restrictions

URGENCY_RANK = case({u: i for i, u in enumerate(URGENCIES)}, value=referrals.c.urgency, else_=len(URGENCIES))


def readable_referrals(principal: Principal) -> Select:
    """What the caller may read: a council its own referrals, except those under a restriction of processing
    (decision 0006: a restricted record is served to the hub only); the hub every referral."""
    return _unrestricted_for_councils(readable(select(referrals), principal, referrals.c.la_code), principal.is_council)


def _unrestricted_for_councils(stmt: Select, council: bool) -> Select:
    return stmt.where(~in_force_for(referrals.c.id)) if council else stmt


@functools.cache
def _by_id(council: bool, for_update: bool) -> Select:
    """get()'s statement, built once for each shape and run with bind parameters: building it (and its cache
    key) on each read was about a third of the referral service's CPU for a GET."""
    stmt = _unrestricted_for_councils(readable_bound(select(referrals), council, referrals.c.la_code), council)
    stmt = stmt.where(referrals.c.id == bindparam("referral_id"))
    if for_update:  # a row lock on Postgres; SQLite serialises writers anyway and renders nothing
        stmt = stmt.with_for_update()
    return stmt


async def get(session: AsyncSession, principal: Principal, referral_id: str, *, for_update: bool = False) -> dict | None:
    row = (await session.execute(_by_id(principal.is_council, for_update),
                                 {"referral_id": str(referral_id), **tenancy_params(principal)})).mappings().first()
    return dict(row) if row else None


async def get_any(session: AsyncSession, referral_id: str, *, for_update: bool = False) -> dict | None:
    """A referral whoever's it is: for the service's own consumers and jobs, never for a caller's read."""
    stmt = select(referrals).where(referrals.c.id == str(referral_id))
    if for_update:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).mappings().first()
    return dict(row) if row else None


async def find_by_child_ref(session: AsyncSession, la_code: str, child_ref: str) -> dict | None:
    row = (await session.execute(select(referrals).where(referrals.c.la_code == la_code,
                                                         referrals.c.child_ref == child_ref)
                                 .order_by(referrals.c.received_at).limit(1))).mappings().first()
    return dict(row) if row else None


async def find_by_handoff(session: AsyncSession, placement_id: str) -> dict | None:
    """The outreach referral a step-down from this placement opened, if any."""
    row = (await session.execute(select(referrals).where(
        referrals.c.handoff_from_placement_id == str(placement_id)))).mappings().first()
    return dict(row) if row else None


async def find_by_placement(session: AsyncSession, placement_id: str) -> dict | None:
    """The accepted bed referral whose placement this is (for a handoff; never for a caller's read)."""
    row = (await session.execute(select(referrals).where(referrals.c.placement_id == str(placement_id))
                                 .limit(1))).mappings().first()
    return dict(row) if row else None


async def insert(session: AsyncSession, row: dict) -> None:
    await session.execute(referrals.insert().values(**row))


async def overdue_candidates(session: AsyncSession, cutoff: date) -> list:
    """A coarse filter for the expiry sweep (the rule itself is the domain's): open referrals wanted by
    the cutoff, or without a wanted start date. Rows of (id, status, wanted_start_date, received_at)."""
    stmt = select(referrals.c.id, referrals.c.status, referrals.c.wanted_start_date, referrals.c.received_at) \
        .where(referrals.c.status.in_([s.value for s in OPEN])) \
        .where(or_(referrals.c.wanted_start_date <= cutoff, referrals.c.wanted_start_date.is_(None)))
    return list((await session.execute(stmt)).all())


@dataclass(frozen=True)
class ReferralFilter:
    """What GET /v1/referrals may filter on; every field optional, all of them together (AND)."""

    status: tuple[str, ...] = ()
    urgency: tuple[str, ...] = ()
    received_from: date | None = None
    received_to: date | None = None
    wanted_start_from: date | None = None
    wanted_start_to: date | None = None
    child_ref: str | None = None
    awaiting_decision: bool = False
    kind: str | None = None


def _filtered(stmt: Select, f: ReferralFilter) -> Select:
    if f.status:
        stmt = stmt.where(referrals.c.status.in_(f.status))
    if f.urgency:
        stmt = stmt.where(referrals.c.urgency.in_(f.urgency))
    if f.received_from:
        stmt = stmt.where(referrals.c.received_at >= datetime.combine(f.received_from, time(), timezone.utc))
    if f.received_to and f.received_to < date.max:
        stmt = stmt.where(referrals.c.received_at < datetime.combine(f.received_to + timedelta(days=1), time(),
                                                                     timezone.utc))
    if f.wanted_start_from:
        stmt = stmt.where(referrals.c.wanted_start_date >= f.wanted_start_from)
    if f.wanted_start_to:
        stmt = stmt.where(referrals.c.wanted_start_date <= f.wanted_start_to)
    if f.child_ref:
        stmt = stmt.where(referrals.c.child_ref == f.child_ref)
    if f.awaiting_decision:
        stmt = stmt.where(referrals.c.status.in_([s.value for s in OPEN]))
    if f.kind:
        stmt = stmt.where(referrals.c.kind == f.kind)
    return stmt


async def page(session: AsyncSession, principal: Principal, f: ReferralFilter, cursor: str | None,
               limit: int) -> tuple[list[dict], str | None]:
    """One page of what the caller may read, newest first (or the hub's decision queue order), and the
    cursor of the next page. A cursor not from this listing raises InvalidCursor."""
    stmt = _filtered(readable_referrals(principal), f)
    if f.awaiting_decision:
        stmt, next_of = decision_queue(stmt, cursor), next_decision_queue
    else:
        stmt, next_of = newest_first(stmt, cursor), next_newest_first
    rows = [dict(r) for r in (await session.execute(stmt.limit(limit + 1))).mappings().all()]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (next_of(rows[-1]) if more else None)


async def save(session: AsyncSession, row: dict, **values) -> dict | None:
    """Write a change guarded by the version read (optimistic concurrency): the new row, or None when
    someone else changed the referral first. Every change bumps the version, which is the ETag."""
    new = {**row, **values, "version": row["version"] + 1, "updated_at": datetime.now(timezone.utc)}
    done = await session.execute(referrals.update().where(
        referrals.c.id == row["id"], referrals.c.version == row["version"]).values(
        **values, version=new["version"], updated_at=new["updated_at"]))
    return new if done.rowcount == 1 else None


def placement_of(row: dict) -> str | None:
    """An accepted bed referral's placement id: the shared rule (libs.common.ids) over its admission id. An
    outreach referral has none (the child stays where the child lives)."""
    if row.get("kind", "bed") != "bed":
        return None
    return placement_id_for(row["admission_id"]) if row["status"] == "accepted" and row["admission_id"] else None


def intervention_of(row: dict) -> str | None:
    """An accepted outreach referral's intervention id: the shared rule (libs.common.ids) over its decision id."""
    if row.get("kind") != "outreach":
        return None
    return intervention_id_for(row["admission_id"]) if row["status"] == "accepted" and row["admission_id"] else None


def links(row: dict, placement_id: str | None, intervention_id: str | None) -> dict:
    """Where a referral leads: itself, the hub's decision, and (accepted) the child's placement or, for
    outreach, the intervention (placement_of and intervention_of of the row, worked out once by to_response)."""
    return {"self": f"/v1/referrals/{row['id']}",
            "admission": f"/v1/admissions/{row['admission_id']}" if row["admission_id"] else None,
            "placement": f"/v1/placements/{placement_id}" if placement_id else None,
            "intervention": f"/v1/interventions/{intervention_id}" if intervention_id else None}


def to_response(row: dict, *, now: datetime | None = None, with_waiting: bool = False) -> dict:
    out = dict(row)
    out["allowed_moves"] = allowed_moves(row["status"])
    out["placement_id"] = placement_of(row)
    out["intervention_id"] = intervention_of(row)
    out["council_name"] = council_name(row["la_code"])
    out["sex_code"] = SEX_TO_CODE.get(row["sex"])
    out["links"] = links(row, out["placement_id"], out["intervention_id"])
    out["kind"] = row.get("kind") or "bed"
    out["at_risk"] = row.get("at_risk") or []
    out["no_known_risks"] = list(row.get("no_known_risks") or [])
    out["placements_standard"] = (ps.to_standard(row["placement_request"], {r["code"] for r in row["risks"]},
                                                 set(out["no_known_risks"]))
                                  if row.get("placement_request") is not None else None)
    if with_waiting:
        now = now or datetime.now(timezone.utc)
        out["waiting_seconds"] = max(0, int((now - row["received_at"]).total_seconds()))
    return out


def received_event(row: dict) -> ReferralReceived:
    """The event of a referral: its coded facts only. Never the summary, never the social worker."""
    return ReferralReceived(**_event_fields(row))


def updated_event(row: dict) -> ReferralUpdated:
    return ReferralUpdated(**_event_fields(row), status=row["status"])


def status_changed_event(old: dict, new: dict, *, reason_code: str | None, at: datetime) -> ReferralStatusChanged:
    return ReferralStatusChanged(referral_id=new["id"], from_status=old["status"], to_status=new["status"], at=at,
                                 reason_code=reason_code, version=new["version"], admission_id=new["admission_id"],
                                 placement_id=placement_of(new))


def _event_fields(row: dict) -> dict:
    return dict(referral_id=row["id"], child_ref=row["child_ref"], date_of_birth=row["date_of_birth"], sex=row["sex"],
                legal_status=row["legal_status"], home_outward_code=row["home_outward_code"],
                category_of_need=row.get("category_of_need"),
                needs=[NeedOrRisk(**n) for n in row["needs"]], risks=[NeedOrRisk(**r) for r in row["risks"]],
                urgency=row["urgency"], wanted_start_date=row["wanted_start_date"], received_at=row["received_at"],
                kind=row.get("kind") or "bed", current_setting=row.get("current_setting"),
                at_risk=row.get("at_risk") or [], outreach_basis=row.get("outreach_basis"),
                outreach_planned_weeks=row.get("outreach_planned_weeks"),
                handoff_from_placement_id=row.get("handoff_from_placement_id"),
                no_known_risks=list(row.get("no_known_risks") or []),
                placement_requirements=ps.requirements_of(row.get("placement_request")))


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


# --- restrictions of processing (decision 0006) -------------------------------------------------------
def in_force_for(referral_id_column):
    """EXISTS a restriction in force on that referral."""
    return exists().where(restrictions.c.referral_id == referral_id_column, restrictions.c.lifted_at.is_(None))


async def restrictions_of(session: AsyncSession, referral_id: str) -> list[dict]:
    """Every restriction of a referral, in force or lifted, oldest first (the history is kept)."""
    rows = (await session.execute(select(restrictions).where(restrictions.c.referral_id == str(referral_id))
                                  .order_by(restrictions.c.recorded_at, restrictions.c.id))).mappings().all()
    return [dict(r) for r in rows]


async def restriction_in_force(session: AsyncSession, referral_id: str, la_code: str | None = None) -> dict | None:
    """The first restriction in force on a referral (of that council, when one is named), or None."""
    stmt = select(restrictions).where(restrictions.c.referral_id == str(referral_id),
                                      restrictions.c.lifted_at.is_(None))
    if la_code is not None:
        stmt = stmt.where(exists().where(referrals.c.id == restrictions.c.referral_id,
                                         referrals.c.la_code == la_code))
    row = (await session.execute(stmt.order_by(restrictions.c.recorded_at).limit(1))).mappings().first()
    return dict(row) if row else None


async def restricted_among(session: AsyncSession, referral_ids: list[str]) -> dict[str, dict]:
    """The restriction in force (the first) of each of these referrals that has one."""
    return await in_force(session, restrictions, referral_ids)


_RESTRICTED_COUNT = select(func.count(func.distinct(restrictions.c.referral_id))).where(
    restrictions.c.lifted_at.is_(None), exists().where(referrals.c.id == restrictions.c.referral_id,
                                                       referrals.c.la_code == bindparam("la_code")))


async def restricted_count(session: AsyncSession, la_code: str) -> int:
    """How many of a council's referrals are restricted (its listings say so); a statement built once."""
    return (await session.execute(_RESTRICTED_COUNT, {"la_code": la_code})).scalar_one()


async def insert_restriction(session: AsyncSession, row: dict) -> None:
    await session.execute(restrictions.insert().values(**row))


async def lift_restriction(session: AsyncSession, restriction_id: str, lifted_at: datetime, lifted_by: str) -> None:
    await session.execute(restrictions.update().where(restrictions.c.id == restriction_id,
                                                      restrictions.c.lifted_at.is_(None))
                          .values(lifted_at=lifted_at, lifted_by=lifted_by))
