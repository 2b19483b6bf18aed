"""The outcomes service's periodic jobs, each safe on several replicas at once.

- measure_deadlines: a measurement point falling due (within 3 days) or passed without every measure
  recorded sends deadline.due_soon / deadline.missed (kind "measure") once per point and notice, however many
  replicas run it: each notice inserts a row unique on (deadline key, notice) in the same transaction as its
  outbox event, so a second replica's insert conflicts, rolls back and emits nothing (assessment's model).
- purge_idempotency_keys: Idempotency-Keys older than the retention window are forgotten."""
from __future__ import annotations

import logging
import os
from datetime import date, datetime, timedelta, timezone

from sqlalchemy.exc import IntegrityError

from libs.common.http import purge_idempotency_keys

from . import repository as repo
from . import service

log = logging.getLogger("itp.outcomes.deadlines")


async def measure_deadlines(runtime, today: date | None = None) -> dict[str, list[str]]:
    today = today or datetime.now(timezone.utc).date()
    async with runtime.db.session() as session:
        deadlines = await service.open_measure_deadlines(session, today)
        sent_before = await repo.sent_notices(session)
    sent: dict[str, list[str]] = {"due_soon": [], "missed": []}
    for d in deadlines:
        notice = {"due_soon": "due_soon", "overdue": "missed"}[d["state"]]
        if (d["deadline_key"], notice) in sent_before:
            continue
        try:
            async with runtime.uow() as uow:
                await service.notify_deadline(uow, d, notice, datetime.now(timezone.utc))
                await uow.commit()
        except IntegrityError:
            continue  # another replica sent it
        sent[notice].append(d["deadline_key"])
    log.info("measure deadline sweep", extra={"due_soon": len(sent["due_soon"]), "missed": len(sent["missed"])})
    return sent


async def purge_old_idempotency_keys(runtime, now: datetime | None = None) -> int:
    hours = int(os.environ.get("ITP_IDEMPOTENCY_RETENTION_HOURS", "24"))
    return await purge_idempotency_keys(runtime, timedelta(hours=hours), now or datetime.now(timezone.utc))
