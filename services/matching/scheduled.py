"""Matching's periodic job: lapse reservations whose child has not arrived by the deadline.

The one writer of lapses (reads never write them: the ranking counts an overdue reservation as a free
Pathway Bed until this job has run). Safe on several replicas: each bed lapses by one conditional UPDATE."""
from __future__ import annotations

from datetime import datetime

from libs.common.runtime import ServiceRuntime

from . import service
from .repository import utcnow


async def lapse_reservations(runtime: ServiceRuntime, now: datetime | None = None) -> int:
    async with runtime.uow() as uow:
        lapsed = await service.lapse_reservations(uow, now or utcnow())
        await uow.commit()
    return lapsed
