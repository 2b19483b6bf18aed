"""The referral service's periodic jobs (and `itp referrals expire`). Each opens and commits its own
units of work, and each is safe to run twice, or in two replicas at once.

- expire_overdue: an open referral not decided by a configurable time after its wanted start date is
  expired. Each referral moves in its own transaction, guarded by its version, so a second run (or a
  racing decision) finds nothing to do.
- purge_idempotency_keys: Idempotency-Keys older than the retention window (24 h by default) are forgotten.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, timedelta, timezone

from libs.common.http import purge_idempotency_keys
from libs.common.runtime import ServiceRuntime

from . import service
from .settings import ReferralSettings

log = logging.getLogger("itp.referral.expiry")


async def expire_overdue(runtime: ServiceRuntime, settings: ReferralSettings, today: date | None = None) -> list[str]:
    """Expire every overdue open referral; answers the ids expired by this run."""
    today = today or datetime.now(timezone.utc).date()
    async with runtime.db.session() as session:
        candidates = await service.overdue(session, settings, today)
    expired = []
    for referral_id in candidates:
        async with runtime.uow() as uow:
            if await service.expire(uow, referral_id):
                await uow.commit()
                expired.append(referral_id)
    log.info("expiry sweep", extra={"expired": len(expired), "today": today.isoformat()})
    return expired


async def purge_old_idempotency_keys(runtime: ServiceRuntime, settings: ReferralSettings,
                                     now: datetime | None = None) -> int:
    """Forget the Idempotency-Keys older than ITP_IDEMPOTENCY_RETENTION_HOURS; answers how many."""
    return await purge_idempotency_keys(runtime, timedelta(hours=settings.idempotency_retention_hours),
                                        now or datetime.now(timezone.utc))
