"""Assessment's reads and row mapping. Every read starts from a statement already narrowed to what
the caller may see: a council its own children (another council's answer 404), a home manager the
placements in their homes, the hub everything."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.pagination import InvalidCursor, decode_cursor, encode_cursor
from libs.common.tenancy import readable

from .domain.placement import Extension, PhaseSpan, Placement, Status, allowed_moves
from .domain.schedule import plan_is_late, statutory_reviews
from .tables import placements, plans, reviews


def readable_placements(principal: Principal) -> Select:
    stmt = readable(select(placements), principal, placements.c.la_code)
    if principal.role == "home_manager" and not principal.is_council:
        stmt = stmt.where(placements.c.home_id.in_(list(principal.homes)))
    return stmt


# --- the placements listing: keyset pages on (created_at, id), which never change and are never NULL
# (arrival_date is NULL while pending and set later, so it cannot key a page) ---------------------------
PLACEMENTS_CURSOR = "p"


def oldest_first(stmt: Select, cursor: str | None) -> Select:
    """Raises InvalidCursor for anything but a cursor of this listing."""
    if cursor:
        at, ident = decode_cursor(cursor, PLACEMENTS_CURSOR, datetime, str)
        if len(ident) > 36:
            raise InvalidCursor("not a cursor")
        stmt = stmt.where(or_(placements.c.created_at > at,
                              and_(placements.c.created_at == at, placements.c.id > ident)))
    return stmt.order_by(placements.c.created_at, placements.c.id)


def next_oldest_first(row: dict) -> str:
    return encode_cursor(PLACEMENTS_CURSOR, row["created_at"], row["id"])


async def get_placement(session: AsyncSession, principal: Principal, placement_id: str, *,
                        for_update: bool = False) -> dict | None:
    stmt = readable_placements(principal).where(placements.c.id == placement_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).mappings().first()
    return dict(row) if row else None


async def get_plan(session: AsyncSession, principal: Principal, plan_id: str, *, for_update: bool = False):
    """The plan and its placement, or (None, None) when the caller may not see the placement."""
    stmt = select(plans).where(plans.c.id == plan_id)
    if for_update:
        stmt = stmt.with_for_update()
    plan = (await session.execute(stmt)).mappings().first()
    if plan is None:
        return None, None
    placement = await get_placement(session, principal, plan["placement_id"], for_update=for_update)
    return (dict(plan), placement) if placement else (None, None)


async def plan_of(session: AsyncSession, placement_id: str) -> dict | None:
    row = (await session.execute(select(plans).where(plans.c.placement_id == placement_id))).mappings().first()
    return dict(row) if row else None


async def get_review(session: AsyncSession, principal: Principal, review_id: str, *, for_update: bool = False):
    stmt = select(reviews).where(reviews.c.id == review_id)
    if for_update:
        stmt = stmt.with_for_update()
    review = (await session.execute(stmt)).mappings().first()
    if review is None:
        return None, None
    placement = await get_placement(session, principal, review["placement_id"], for_update=for_update)
    return (dict(review), placement) if placement else (None, None)


async def reviews_of(session: AsyncSession, placement_id: str) -> list[dict]:
    rows = (await session.execute(select(reviews).where(reviews.c.placement_id == placement_id)
                                  .order_by(reviews.c.number))).mappings().all()
    return [dict(r) for r in rows]


async def plans_and_open_reviews(session: AsyncSession, placement_ids: list[str]) -> tuple[dict, dict]:
    """For a page of placements at once: each one's plan, and its first review not yet completed."""
    if not placement_ids:
        return {}, {}
    found_plans = {r["placement_id"]: dict(r) for r in (await session.execute(
        select(plans).where(plans.c.placement_id.in_(placement_ids)))).mappings()}
    open_reviews: dict[str, dict] = {}
    for r in (await session.execute(select(reviews).where(reviews.c.placement_id.in_(placement_ids),
                                                          reviews.c.completed_on.is_(None))
                                    .order_by(reviews.c.placement_id, reviews.c.number))).mappings():
        open_reviews.setdefault(r["placement_id"], dict(r))
    return found_plans, open_reviews


def to_domain(row: dict) -> Placement:
    return Placement(status=Status(row["status"]), arrival_date=row["arrival_date"], phase_1_end=row["phase_1_end"],
                     history=tuple(PhaseSpan.from_dict(s) for s in row["history"]),
                     extensions=tuple(Extension(e["reason"], date.fromisoformat(e["previous_end"]),
                                                date.fromisoformat(e["new_end"])) for e in row["extensions"]),
                     end_date=row["end_date"])


def from_domain(p: Placement) -> dict:
    return dict(status=p.status.value, arrival_date=p.arrival_date, phase_1_end=p.phase_1_end,
                history=[s.to_dict() for s in p.history],
                extensions=[{"reason": e.reason, "previous_end": e.previous_end.isoformat(),
                             "new_end": e.new_end.isoformat()} for e in p.extensions],
                end_date=p.end_date)


async def save(session: AsyncSession, row: dict, values: dict, now) -> dict:
    """Write a change guarded by the version read; the new row (the caller holds the row lock)."""
    new = {**row, **values, "version": row["version"] + 1, "updated_at": now}
    done = await session.execute(placements.update().where(placements.c.id == row["id"],
                                                           placements.c.version == row["version"])
                                 .values(**values, version=new["version"], updated_at=now))
    if done.rowcount != 1:
        raise RuntimeError("the placement changed meanwhile")
    return new


def placement_view(row: dict, plan: dict | None, open_review: dict | None, as_of: date, today: date) -> dict:
    p = to_domain(row)
    out = {k: row[k] for k in ("id", "admission_id", "referral_id", "la_code", "home_id", "bed_id", "key_worker",
                               "therapeutic_lead", "status", "planned_start_date", "arrival_date", "phase_1_end",
                               "end_date", "ending", "step_down")}
    out.update(allowed_moves=allowed_moves(row["status"]), phase_history=row["history"],
               extensions=row["extensions"], transitions=row["transitions"], as_of=as_of,
               phase=p.phase_on(as_of), day=p.day_on(as_of), phase_1_extended=bool(row["extensions"]),
               statutory_reviews=statutory_reviews(row["arrival_date"]) if row["arrival_date"] else [])
    out["plan"] = None if plan is None else {
        "id": plan["id"], "due_date": plan["due_date"], "issued_version": plan["issued_version"],
        "issued_on": plan["issued_on"], "late": plan_is_late(row["arrival_date"], plan["issued_on"], today)}
    out["next_review"] = None if open_review is None else {
        "id": open_review["id"], "kind": open_review["kind"], "due_date": open_review["due_date"]}
    return out
