"""Assessment's periodic jobs, each safe on several replicas at once.

Deadlines: the Initial Pathway Plan (day 28), the Phase 1 foundation tasks, the plan reviews and the follow-up
checks of closed outreach interventions (6 weeks, 3 months, 6 months after the close; kind follow_up). The sweep
emits deadline.due_soon and deadline.missed once per deadline, however many replicas run it at once: each
notice inserts a row unique on (deadline key, notice) in the same transaction as its outbox event, so a
second replica's insert conflicts, rolls back and emits nothing.

Idempotency keys: forgotten after the retention window (24 hours unless the settings say otherwise); a
delete by age, which any number of replicas may run together."""
from __future__ import annotations

import logging
from datetime import date, datetime, timedelta, timezone

from sqlalchemy.exc import IntegrityError

from libs.common.http import purge_idempotency_keys
from libs.common.runtime import ServiceRuntime

from . import repository as repo
from . import service

log = logging.getLogger("itp.assessment.deadlines")

IDEMPOTENCY_RETENTION = timedelta(hours=24)


async def sweep(runtime: ServiceRuntime, today: date | None = None) -> dict[str, list[str]]:
    """Send the notices not yet sent; answers the deadline keys this run notified."""
    today = today or datetime.now(timezone.utc).date()
    async with runtime.db.session() as session:
        deadlines = await repo.open_deadlines(session, repo.every_placement(), today)
        deadlines += await repo.open_follow_ups(session, today)  # outreach interventions' follow-up checks
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
    try:
        async with runtime.uow() as uow:
            await service.notify_deadline(uow, d, notice, datetime.now(timezone.utc))
            await uow.commit()
    except IntegrityError:
        return False  # another replica (or an earlier run) sent it
    return True


def idempotency_retention(runtime: ServiceRuntime) -> timedelta:
    hours = getattr(runtime.settings, "idempotency_retention_hours", None)
    return IDEMPOTENCY_RETENTION if hours is None else timedelta(hours=hours)


async def purge_keys(runtime: ServiceRuntime, now: datetime | None = None) -> int:
    """Forget Idempotency-Keys older than the retention window; answers how many."""
    return await purge_idempotency_keys(runtime, idempotency_retention(runtime), now or datetime.now(timezone.utc))
