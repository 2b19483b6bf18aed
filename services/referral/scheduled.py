"""The expiry sweep: an open referral not decided by a configurable time after its wanted start date
is expired. Safe to run twice, or in two processes at once: each referral moves in its own
transaction, guarded by its version, so a second run (or a racing decision) finds nothing to do."""
from __future__ import annotations

import logging
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import or_, select

from libs.common.runtime import ServiceRuntime

from . import repository as repo
from .domain.status import OPEN, Status, is_overdue
from .settings import ReferralSettings
from .tables import referrals

log = logging.getLogger("itp.referral.expiry")


async def expire_overdue(runtime: ServiceRuntime, settings: ReferralSettings, today: date | None = None) -> list[str]:
    """Expire every overdue open referral; answers the ids expired by this run."""
    today = today or datetime.now(timezone.utc).date()
    cutoff = today - timedelta(days=settings.expire_after_days)
    # a coarse filter in SQL, the rule itself in the domain
    stmt = select(referrals.c.id, referrals.c.status, referrals.c.wanted_start_date, referrals.c.received_at) \
        .where(referrals.c.status.in_([s.value for s in OPEN])) \
        .where(or_(referrals.c.wanted_start_date <= cutoff,
                   referrals.c.wanted_start_date.is_(None)))
    async with runtime.db.session() as session:
        candidates = (await session.execute(stmt)).all()
    expired = []
    for c in candidates:
        if not is_overdue(c.status, c.wanted_start_date, c.received_at.date(), today, settings.expire_after_days):
            continue
        if await _expire_one(runtime, c.id):
            expired.append(c.id)
    log.info("expiry sweep", extra={"expired": len(expired), "today": today.isoformat()})
    return expired


async def _expire_one(runtime: ServiceRuntime, referral_id: str) -> bool:
    async with runtime.uow() as uow:
        row = (await uow.session.execute(select(referrals).where(referrals.c.id == referral_id)
                                         .with_for_update())).mappings().first()
        if row is None or row["status"] not in {s.value for s in OPEN}:
            return False
        new = await repo.save(uow.session, dict(row), status=Status.expired.value,
                              decided_at=datetime.now(timezone.utc), decision_reason="not_decided_in_time")
        if new is None:
            return False
        await uow.emit(repo.updated_event(new), subject_id=referral_id, la_code=row["la_code"])
        await uow.commit()
    return True
