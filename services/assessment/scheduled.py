"""Deadlines: the Initial Pathway Plan (day 28), the Phase 1 foundation tasks and the plan reviews.

The sweep emits deadline.due_soon and deadline.missed once per deadline, however many replicas
run it at once: each notice inserts a row unique on (deadline key, notice) in the same transaction
as its outbox event, so a second replica's insert conflicts, rolls back and emits nothing."""
from __future__ import annotations

import logging
from datetime import date, datetime, timezone

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.events.catalogue import DeadlineDueSoon, DeadlineMissed
from libs.common.runtime import ServiceRuntime

from .domain.deadlines import deadline_key, deadline_state
from .domain.placement import Status
from .tables import deadline_notices, placements, plans, reviews, tasks

log = logging.getLogger("itp.assessment.deadlines")


async def open_deadlines(session: AsyncSession, placement_stmt: Select, today: date) -> list[dict]:
    """Every deadline not yet met of the running placements the statement selects."""
    stmt = placement_stmt.where(placements.c.status.in_([Status.phase_1.value, Status.phase_2.value]))
    rows = {r["id"]: dict(r) for r in (await session.execute(stmt)).mappings().all()}
    if not rows:
        return []
    ids = list(rows)
    out = []

    def add(pid: str, kind: str, item: str, due: date) -> None:
        state = deadline_state(due, False, today)
        out.append({"deadline_key": deadline_key(pid, kind, item), "placement_id": pid,
                    "home_id": rows[pid]["home_id"], "referral_id": rows[pid]["referral_id"], "la_code": rows[pid]["la_code"], "kind": kind, "item": item,
                    "due_date": due, "state": state})

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


async def sweep(runtime: ServiceRuntime, today: date | None = None) -> dict[str, list[str]]:
    """Send the notices not yet sent; answers the deadline keys this run notified."""
    today = today or datetime.now(timezone.utc).date()
    async with runtime.db.session() as session:
        deadlines = await open_deadlines(session, select(placements), today)
    sent: dict[str, list[str]] = {"due_soon": [], "missed": []}
    for d in deadlines:
        notice = {"due_soon": "due_soon", "overdue": "missed"}.get(d["state"])
        if notice is None:
            continue
        if await _notify(runtime, d, notice):
            sent[notice].append(d["deadline_key"])
    log.info("deadline sweep", extra={"due_soon": len(sent["due_soon"]), "missed": len(sent["missed"]),
                                      "today": today.isoformat()})
    return sent


async def _notify(runtime: ServiceRuntime, d: dict, notice: str) -> bool:
    model = DeadlineDueSoon if notice == "due_soon" else DeadlineMissed
    try:
        async with runtime.uow() as uow:
            await uow.session.execute(deadline_notices.insert().values(
                deadline_key=d["deadline_key"], notice=notice, sent_at=datetime.now(timezone.utc)))
            await uow.emit(model(deadline_key=d["deadline_key"], placement_id=d["placement_id"],
                                 home_id=d["home_id"], kind=d["kind"], item=d["item"], due_date=d["due_date"]),
                           subject_id=d["placement_id"], la_code=d["la_code"])
            await uow.commit()
    except IntegrityError:
        return False  # another replica (or an earlier run) sent it
    return True
