"""All of assessment's SQL: reads, writes, what the consumer and the periodic jobs run, and the row
mapping. Every read on behalf of a caller starts from a statement already narrowed to what the caller
may see (`readable_placements`): a council its own children (another council's answer 404), a home
manager the placements in their homes, the hub everything. Nothing here commits."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Select, and_, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.db import insert_for
from libs.common import restrictions as restriction_rules
from libs.common.pagination import InvalidCursor, decode_cursor, encode_cursor
from libs.common.tenancy import readable
from libs.common import weekly_fees as weekly_fees_model

from .domain.deadlines import deadline_key, deadline_state
from .domain.intervention import follow_ups_due
from .domain.placement import Extension, PhaseSpan, Placement, Status, allowed_moves
from .domain.schedule import plan_is_late, statutory_reviews
from .tables import (restricted_children, children, deadline_notices, intervention_follow_ups, intervention_sessions, interventions,
                     placements, plan_versions, plans, reviews, tasks, weekly_fees)


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


def placements_of(principal: Principal, *, home: str | None = None, placement: str | None = None,
                  status: list[str] | None = None, referral: str | None = None) -> Select:
    """The caller's placements, narrowed by the listing's filters."""
    stmt = readable_placements(principal)
    if home:
        stmt = stmt.where(placements.c.home_id == home)
    if referral:
        stmt = stmt.where(placements.c.referral_id == referral)
    if placement:
        stmt = stmt.where(placements.c.id == placement)
    if status:
        stmt = stmt.where(placements.c.status.in_(status))
    return stmt


async def placements_page(session: AsyncSession, principal: Principal, *, home: str | None,
                          status: list[str] | None, cursor: str | None, limit: int,
                          referral: str | None = None) -> tuple[list[dict], str | None]:
    """A page of the caller's placements, oldest first, and the next page's cursor (None on the last page).
    Raises InvalidCursor for anything but a cursor of this listing."""
    stmt = oldest_first(placements_of(principal, home=home, status=status, referral=referral), cursor)
    rows = [dict(r) for r in (await session.execute(stmt.limit(limit + 1))).mappings().all()]
    more, rows = len(rows) > limit, rows[:limit]
    return rows, next_oldest_first(rows[-1]) if more else None


async def placement_for_admission(session: AsyncSession, admission_id: str) -> str | None:
    return (await session.execute(select(placements.c.id).where(placements.c.admission_id == admission_id))).scalar()


async def insert_placement(session: AsyncSession, **values) -> None:
    await session.execute(placements.insert().values(**values))


async def get_placement(session: AsyncSession, principal: Principal, placement_id: str, *,
                        for_update: bool = False) -> dict | None:
    stmt = readable_placements(principal).where(placements.c.id == placement_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).mappings().first()
    return await council_guard(session, principal, dict(row) if row else None)


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


async def tasks_of(session: AsyncSession, placement_id: str) -> list[dict]:
    rows = (await session.execute(select(tasks).where(tasks.c.placement_id == placement_id)
                                  .order_by(tasks.c.due_date, tasks.c.code))).mappings().all()
    return [dict(r) for r in rows]


async def task_for_update(session: AsyncSession, placement_id: str, code: str) -> dict | None:
    row = (await session.execute(select(tasks).where(tasks.c.placement_id == placement_id, tasks.c.code == code)
                                 .with_for_update())).mappings().first()
    return dict(row) if row else None


async def insert_tasks(session: AsyncSession, rows: list[dict]) -> None:
    for row in rows:
        await session.execute(tasks.insert().values(**row))


async def update_task(session: AsyncSession, placement_id: str, code: str, values: dict) -> None:
    await session.execute(tasks.update().where(tasks.c.placement_id == placement_id, tasks.c.code == code)
                          .values(**values))


async def insert_plan(session: AsyncSession, **values) -> None:
    await session.execute(plans.insert().values(**values))


async def save_plan_sections(session: AsyncSession, plan: dict, sections: dict, now) -> dict | None:
    """The working copy's new sections, guarded by the version read; the new plan, or None when the
    version moved meanwhile."""
    new = {**plan, "sections": sections, "version": plan["version"] + 1, "updated_at": now}
    done = await session.execute(plans.update().where(plans.c.id == plan["id"], plans.c.version == plan["version"])
                                 .values(sections=sections, version=new["version"], updated_at=now))
    return new if done.rowcount == 1 else None


async def set_issued(session: AsyncSession, plan_id: str, values: dict) -> None:
    await session.execute(plans.update().where(plans.c.id == plan_id).values(**values))


async def insert_plan_version(session: AsyncSession, **values) -> None:
    await session.execute(plan_versions.insert().values(**values))


async def plan_versions_of(session: AsyncSession, plan_id: str) -> list[dict]:
    rows = (await session.execute(select(plan_versions).where(plan_versions.c.plan_id == plan_id)
                                  .order_by(plan_versions.c.version))).mappings().all()
    return [dict(r) for r in rows]


async def plan_version(session: AsyncSession, plan_id: str, version: int) -> dict | None:
    row = (await session.execute(select(plan_versions).where(plan_versions.c.plan_id == plan_id,
                                                             plan_versions.c.version == version))).mappings().first()
    return dict(row) if row else None


async def insert_review(session: AsyncSession, **values) -> None:
    await session.execute(reviews.insert().values(**values))


async def update_review(session: AsyncSession, review_id: str, values: dict) -> None:
    await session.execute(reviews.update().where(reviews.c.id == review_id).values(**values))


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
               statutory_reviews=statutory_reviews(row["arrival_date"]) if row["arrival_date"] else [],
               reason_new_episode=row.get("reason_new_episode"), home_urn=row.get("home_urn"))
    out["plan"] = None if plan is None else {
        "id": plan["id"], "due_date": plan["due_date"], "issued_version": plan["issued_version"],
        "issued_on": plan["issued_on"], "late": plan_is_late(row["arrival_date"], plan["issued_on"], today)}
    out["next_review"] = None if open_review is None else {
        "id": open_review["id"], "kind": open_review["kind"], "due_date": open_review["due_date"]}
    return out


# --- deadlines: computed from the open plans, tasks and reviews, never stored ----------------------------
def every_placement() -> Select:
    """Every placement, whoever's: the periodic sweep's view, never a caller's."""
    return select(placements)


async def open_deadlines(session: AsyncSession, placement_stmt: Select, today: date) -> list[dict]:
    """Every deadline not yet met of the running placements the statement selects, soonest first
    (then by deadline_key)."""
    stmt = placement_stmt.where(placements.c.status.in_([Status.phase_1.value, Status.phase_2.value]))
    rows = {r["id"]: dict(r) for r in (await session.execute(stmt)).mappings().all()}
    if not rows:
        return []
    ids = list(rows)
    out = []

    def add(pid: str, kind: str, item: str, due: date) -> None:
        row = rows[pid]
        out.append({"deadline_key": deadline_key(pid, kind, item), "placement_id": pid, "home_id": row["home_id"],
                    "referral_id": row["referral_id"], "la_code": row["la_code"], "kind": kind, "item": item,
                    "due_date": due, "state": deadline_state(due, False, today)})

    for plan in (await session.execute(select(plans).where(plans.c.placement_id.in_(ids),
                                                           plans.c.issued_version == 0))).mappings():
        add(plan["placement_id"], "plan", "initial_pathway_plan", plan["due_date"])
    for task in (await session.execute(select(tasks).where(tasks.c.placement_id.in_(ids),
                                                           tasks.c.done_on.is_(None)))).mappings():
        add(task["placement_id"], "task", task["code"], task["due_date"])
    for review in (await session.execute(select(reviews).where(reviews.c.placement_id.in_(ids),
                                                               reviews.c.completed_on.is_(None)))).mappings():
        add(review["placement_id"], "review", f"review_{review['number']}_{review['kind']}", review["due_date"])
    out.sort(key=lambda d: (d["due_date"], d["deadline_key"]))
    return out


async def insert_notice(session: AsyncSession, deadline_key: str, notice: str, now: datetime) -> None:
    """Unique on (deadline_key, notice): a second insert of the same notice raises IntegrityError."""
    await session.execute(deadline_notices.insert().values(deadline_key=deadline_key, notice=notice, sent_at=now))


# --- the weekly fee billing tells (placement.fee_applied): the shared read model in libs/common/weekly_fees.py
async def record_weekly_fee(session: AsyncSession, payload, now: datetime) -> bool:
    return await weekly_fees_model.record_weekly_fee(session, weekly_fees, payload, now)


async def weekly_fees_of(session: AsyncSession, referral_ids) -> dict[str, dict]:
    return await weekly_fees_model.weekly_fees_of(session, weekly_fees, referral_ids)



# --- the child's coded facts (from the referral's events), for the SSDA903 episodes ------------------------
CHILD_FACTS = ("child_ref", "date_of_birth", "sex", "legal_status", "category_of_need", "home_outward_code",
               "current_setting", "handoff_from_placement_id")


async def upsert_child(session: AsyncSession, referral_id: str, la_code: str, facts: dict, now: datetime) -> None:
    """The newest facts of a referral's child (a replayed or older event writes the same or newer facts)."""
    values = {"referral_id": referral_id, "la_code": la_code, **{k: facts.get(k) for k in CHILD_FACTS},
              "updated_at": now}
    if values["handoff_from_placement_id"] is not None:
        values["handoff_from_placement_id"] = str(values["handoff_from_placement_id"])
    stmt = insert_for(session, children).values(**values)
    await session.execute(stmt.on_conflict_do_update(index_elements=[children.c.referral_id],
                                                     set_={k: stmt.excluded[k] for k in (*CHILD_FACTS, "updated_at")}))


async def children_of(session: AsyncSession, referral_ids) -> dict[str, dict]:
    """The facts of the children of placements the caller already read (never a read by itself)."""
    ids = list(set(referral_ids))
    if not ids:
        return {}
    rows = (await session.execute(select(children).where(children.c.referral_id.in_(ids)))).mappings().all()
    return {r["referral_id"]: dict(r) for r in rows}


async def arrived_placements(session: AsyncSession, principal: Principal, *, placement: str | None = None,
                             start: date | None = None, end: date | None = None) -> list[dict]:
    """The caller's placements with an arrival on or before `end` and not ended before `start`, oldest first."""
    stmt = placements_of(principal, placement=placement).where(placements.c.arrival_date.is_not(None))
    if end is not None:
        stmt = stmt.where(placements.c.arrival_date <= end)
    if start is not None:
        stmt = stmt.where(or_(placements.c.end_date.is_(None), placements.c.end_date >= start))
    stmt = stmt.order_by(placements.c.arrival_date, placements.c.id)
    return [dict(r) for r in (await session.execute(stmt)).mappings().all()]


# --- outreach interventions (issue 16) ---------------------------------------------------------------------
def readable_interventions(principal: Principal) -> Select:
    """A council its own children's interventions; the hub's roles all of them, except a home manager, whose
    reach is their homes' placements (an intervention is in no home)."""
    stmt = readable(select(interventions), principal, interventions.c.la_code)
    if principal.role == "home_manager" and not principal.is_council:
        stmt = stmt.where(false())
    return stmt


INTERVENTIONS_CURSOR = "iv"


def interventions_of(principal: Principal, *, status: list[str] | None = None, team: str | None = None,
                     referral: str | None = None) -> Select:
    stmt = readable_interventions(principal)
    if status:
        stmt = stmt.where(interventions.c.status.in_(status))
    if team:
        stmt = stmt.where(interventions.c.team_id == team)
    if referral:
        stmt = stmt.where(interventions.c.referral_id == referral)
    return stmt


async def interventions_page(session: AsyncSession, principal: Principal, *, status: list[str] | None,
                             team: str | None, referral: str | None, cursor: str | None,
                             limit: int) -> tuple[list[dict], str | None]:
    """A page of the caller's interventions, oldest first (keyset on created_at, id)."""
    stmt = interventions_of(principal, status=status, team=team, referral=referral)
    if cursor:
        at, ident = decode_cursor(cursor, INTERVENTIONS_CURSOR, datetime, str)
        if len(ident) > 36:
            raise InvalidCursor("not a cursor")
        stmt = stmt.where(or_(interventions.c.created_at > at,
                              and_(interventions.c.created_at == at, interventions.c.id > ident)))
    stmt = stmt.order_by(interventions.c.created_at, interventions.c.id).limit(limit + 1)
    rows = [dict(r) for r in (await session.execute(stmt)).mappings().all()]
    more, rows = len(rows) > limit, rows[:limit]
    return rows, encode_cursor(INTERVENTIONS_CURSOR, rows[-1]["created_at"], rows[-1]["id"]) if more else None


async def get_intervention(session: AsyncSession, principal: Principal, intervention_id: str, *,
                           for_update: bool = False) -> dict | None:
    stmt = readable_interventions(principal).where(interventions.c.id == intervention_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).mappings().first()
    return await council_guard(session, principal, dict(row) if row else None)


async def intervention_exists(session: AsyncSession, intervention_id: str) -> bool:
    return (await session.execute(select(interventions.c.id).where(interventions.c.id == intervention_id))
            ).first() is not None


async def insert_intervention(session: AsyncSession, **values) -> None:
    await session.execute(interventions.insert().values(**values))


async def save_intervention(session: AsyncSession, row: dict, values: dict, now: datetime) -> dict:
    """A change guarded by the version read (the caller holds the row lock); the new row."""
    new = {**row, **values, "version": row["version"] + 1, "updated_at": now}
    done = await session.execute(interventions.update().where(interventions.c.id == row["id"],
                                                              interventions.c.version == row["version"])
                                 .values(**values, version=new["version"], updated_at=now))
    if done.rowcount != 1:
        raise RuntimeError("the intervention changed meanwhile")
    return new


async def intervention_setting(session: AsyncSession, referral_id: str, current_setting: str | None,
                               handoff_from_placement_id: str | None) -> None:
    """Where the child lives and the placement handed over from, on the referral's intervention (when there is one)."""
    await session.execute(interventions.update().where(interventions.c.referral_id == referral_id).values(
        current_setting=current_setting, handoff_from_placement_id=handoff_from_placement_id))


async def insert_session(session: AsyncSession, **values) -> None:
    await session.execute(intervention_sessions.insert().values(**values))


async def sessions_of(session: AsyncSession, intervention_ids: list[str]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {i: [] for i in intervention_ids}
    if not intervention_ids:
        return out
    for r in (await session.execute(select(intervention_sessions).where(
            intervention_sessions.c.intervention_id.in_(intervention_ids))
            .order_by(intervention_sessions.c.session_date, intervention_sessions.c.recorded_at))).mappings():
        out[r["intervention_id"]].append(dict(r))
    return out


async def follow_ups_of(session: AsyncSession, intervention_ids: list[str]) -> dict[str, dict[str, dict]]:
    out: dict[str, dict[str, dict]] = {i: {} for i in intervention_ids}
    if not intervention_ids:
        return out
    for r in (await session.execute(select(intervention_follow_ups).where(
            intervention_follow_ups.c.intervention_id.in_(intervention_ids)))).mappings():
        out[r["intervention_id"]][r["checkpoint"]] = dict(r)
    return out


async def insert_follow_up(session: AsyncSession, **values) -> None:
    await session.execute(intervention_follow_ups.insert().values(**values))


async def open_follow_ups(session: AsyncSession, today: date) -> list[dict]:
    """Every follow-up check of a closed intervention not yet recorded, whoever's (the periodic sweep's view),
    with its deadline state on `today`, soonest first."""
    closed = [dict(r) for r in (await session.execute(select(
        interventions.c.id, interventions.c.referral_id, interventions.c.la_code, interventions.c.end_date)
        .where(interventions.c.status == "closed", interventions.c.outcome != "withdrawn"))).mappings().all()]
    if not closed:
        return []
    done = await follow_ups_of(session, [c["id"] for c in closed])
    out = []
    for c in closed:
        for checkpoint, due in follow_ups_due(c["end_date"]):
            if checkpoint in done[c["id"]]:
                continue
            out.append({"deadline_key": deadline_key(c["id"], "follow_up", checkpoint), "intervention_id": c["id"],
                        "placement_id": None, "home_id": None, "referral_id": c["referral_id"],
                        "la_code": c["la_code"], "kind": "follow_up", "item": checkpoint, "due_date": due,
                        "state": deadline_state(due, False, today)})
    out.sort(key=lambda d: (d["due_date"], d["deadline_key"]))
    return out


# --- restrictions of processing (decision 0006; libs.common.restrictions) ------------------------------------
async def council_guard(session: AsyncSession, principal: Principal, row: dict | None) -> dict | None:
    """A child's record read by a council: Restricted (answered 451) when a restriction is in force."""
    if row is not None and principal.is_council:
        await restriction_rules.guard(session, restricted_children, principal, row["referral_id"])
    return row


async def restriction_marker(session: AsyncSession, principal: Principal, referral_id: str) -> dict | None:
    """The hub's marker of a restricted child (a council never gets here for one: council_guard refused it)."""
    return await restriction_rules.guard(session, restricted_children, principal, referral_id)


async def screen(session: AsyncSession, principal: Principal, rows: list[dict]):
    """A listing's rows as the caller is served them: (rows, the hub's markers by referral id, omitted)."""
    return await restriction_rules.screen(session, restricted_children, principal, rows)
