"""Billing's periodic jobs, each safe on several replicas.

- purge_idempotency_keys: Idempotency-Keys older than the retention window (ITP_IDEMPOTENCY_RETENTION_HOURS,
  24 h by default) are forgotten.
- fees_taking_effect: a fee schedule or a phase dated in the future takes effect on its day: each running
  stay's weekly fee is worked out for today and placement.fee_applied emitted where it changed (the notice
  rows are locked: a second replica waits, then finds nothing changed).
Fee periods are closed by finance, never by a job."""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

from libs.common.http import purge_idempotency_keys

from . import service


async def purge_old_idempotency_keys(runtime, now: datetime | None = None) -> int:
    hours = int(os.environ.get("ITP_IDEMPOTENCY_RETENTION_HOURS", "24"))
    return await purge_idempotency_keys(runtime, timedelta(hours=hours), now or datetime.now(timezone.utc))


async def fees_taking_effect(runtime, now: datetime | None = None) -> int:
    now = now or datetime.now(timezone.utc)
    async with runtime.uow() as uow:
        emitted = await service.refresh_fees(uow, reason="date_reached", today=now.date(), now=now, sweep=True)
        await uow.commit()
    return emitted
