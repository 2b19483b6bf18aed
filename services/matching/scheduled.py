"""Matching's periodic jobs, each safe on several replicas:

- lapse_reservations: a reservation whose child has not arrived by its deadline lapses. This job is the one
  writer of lapses: reads never write them (the ranking counts an overdue reservation as a free Pathway Bed
  until the job has run, and an accept that wants such a bed lapses that one reservation itself). Each bed
  lapses by one conditional UPDATE.
- purge_idempotency_keys: Idempotency-Keys older than the retention window (24 h by default) are forgotten.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from libs.common.http import purge_idempotency_keys
from libs.common.runtime import ServiceRuntime

from . import service
from .repository import utcnow
from .settings import matching_settings


async def lapse_reservations(runtime: ServiceRuntime, now: datetime | None = None) -> int:
    async with runtime.uow() as uow:
        lapsed = await service.lapse_reservations(uow, now or utcnow())
        await uow.commit()
    return lapsed


async def purge_old_idempotency_keys(runtime: ServiceRuntime, now: datetime | None = None) -> int:
    """Forget the Idempotency-Keys older than ITP_IDEMPOTENCY_RETENTION_HOURS; answers how many."""
    hours = matching_settings().idempotency_retention_hours
    return await purge_idempotency_keys(runtime, timedelta(hours=hours), now or utcnow())
