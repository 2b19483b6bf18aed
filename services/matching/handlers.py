"""Matching's consumers: keep the referrals read model in step with the referral service's events."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from libs.common.events.catalogue import ReferralReceived, ReferralUpdated, ReferralWithdrawn
from libs.common.events.envelope import EventEnvelope
from libs.common.events.outbox import UnitOfWork

from .tables import referrals


def _row(payload: ReferralReceived) -> dict:
    return dict(date_of_birth=payload.date_of_birth, sex=payload.sex, home_outward_code=payload.home_outward_code,
                needs=[n.model_dump() for n in payload.needs], risks=[r.model_dump() for r in payload.risks],
                urgency=payload.urgency, wanted_start_date=payload.wanted_start_date)


async def on_referral_received(uow: UnitOfWork, event: EventEnvelope, payload: ReferralReceived) -> None:
    exists = (await uow.session.execute(select(referrals.c.id).where(referrals.c.id == str(payload.referral_id)))).first()
    if exists:
        return
    await uow.session.execute(referrals.insert().values(
        id=str(payload.referral_id), la_code=event.la_code, status="awaiting_decision",
        received_at=payload.received_at, updated_at=event.time, **_row(payload)))


async def on_referral_updated(uow: UnitOfWork, event: EventEnvelope, payload: ReferralUpdated) -> None:
    await uow.session.execute(referrals.update().where(referrals.c.id == str(payload.referral_id))
                              .values(updated_at=event.time, **_row(payload)))


async def on_referral_withdrawn(uow: UnitOfWork, event: EventEnvelope, payload: ReferralWithdrawn) -> None:
    await uow.session.execute(referrals.update().where(referrals.c.id == str(payload.referral_id))
                              .values(status="withdrawn", updated_at=datetime.now(timezone.utc)))


HANDLERS = {
    "referral.received": on_referral_received,
    "referral.updated": on_referral_updated,
    "referral.withdrawn": on_referral_withdrawn,
}
