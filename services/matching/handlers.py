"""Matching's consumers: the referrals read model (referral events) and the residents read model
(the assessment service's placement events), which move beds and the Pathway Bed."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import and_, select, update

from libs.common.events.catalogue import (PhaseTransitioned, PlacementEnded, PlacementStarted, ReferralReceived,
                                          ReferralUpdated, ReferralWithdrawn)
from libs.common.events.envelope import EventEnvelope
from libs.common.events.outbox import UnitOfWork

from .repository import bump, refresh_pathway_bed
from .tables import admissions, beds, referrals, residents


CLOSED_BY_THE_REFERRAL_SERVICE = ("expired", "withdrawn")


def _row(payload: ReferralReceived) -> dict:
    return dict(date_of_birth=payload.date_of_birth, sex=payload.sex, home_outward_code=payload.home_outward_code,
                needs=[n.model_dump() for n in payload.needs], risks=[r.model_dump() for r in payload.risks],
                urgency=payload.urgency, wanted_start_date=payload.wanted_start_date)


async def _referral_is_resident(uow: UnitOfWork, referral_id: str) -> bool:
    return (await uow.session.execute(select(residents.c.placement_id).where(and_(
        residents.c.referral_id == referral_id, residents.c.end_date.is_(None))))).first() is not None


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
    if payload.status in CLOSED_BY_THE_REFERRAL_SERVICE:  # expired (or withdrawn): no longer awaiting a decision
        await uow.session.execute(referrals.update().where(and_(referrals.c.id == str(payload.referral_id),
                                                                referrals.c.status == "awaiting_decision"))
                                  .values(status=payload.status))
    if await _referral_is_resident(uow, str(payload.referral_id)):
        await bump(uow.session)  # a resident's needs and risks changed: the homes snapshot is stale


async def on_referral_withdrawn(uow: UnitOfWork, event: EventEnvelope, payload: ReferralWithdrawn) -> None:
    now = datetime.now(timezone.utc)
    referral_id = str(payload.referral_id)
    await uow.session.execute(referrals.update().where(referrals.c.id == referral_id)
                              .values(status="withdrawn", updated_at=now))
    # a reserved bed is released at once (it stays, or becomes, the Pathway Bed)
    held = (await uow.session.execute(select(beds.c.id, beds.c.home_id).where(and_(
        beds.c.reserved_for == referral_id, beds.c.state == "reserved")))).all()
    for bed in held:
        await uow.session.execute(update(beds).where(beds.c.id == bed.id).values(
            state="vacant", reserved_for=None, reserved_until=None, admission_id=None, updated_at=now))
        await refresh_pathway_bed(uow.session, bed.home_id, freed=bed.id)
    if held:
        await uow.session.execute(update(admissions).where(and_(admissions.c.referral_id == referral_id,
                                                                admissions.c.status == "reserved"))
                                  .values(status="withdrawn"))
        await bump(uow.session)


async def on_placement_started(uow: UnitOfWork, event: EventEnvelope, payload: PlacementStarted) -> None:
    """The child arrived: the bed is occupied and another vacant bed (if any) becomes the Pathway Bed."""
    placement_id, bed_id, home_id = str(payload.placement_id), str(payload.bed_id), str(payload.home_id)
    now = datetime.now(timezone.utc)
    if (await uow.session.execute(select(residents.c.placement_id)
                                  .where(residents.c.placement_id == placement_id))).first() is None:
        await uow.session.execute(residents.insert().values(
            placement_id=placement_id, referral_id=str(payload.referral_id), home_id=home_id, bed_id=bed_id,
            phase="phase_1", start_date=payload.start_date, end_date=None))
    await uow.session.execute(update(beds).where(beds.c.id == bed_id).values(
        state="occupied", is_pathway=False, reserved_for=None, reserved_until=None, placement_id=placement_id,
        updated_at=now))
    await uow.session.execute(update(admissions).where(and_(admissions.c.referral_id == str(payload.referral_id),
                                                            admissions.c.status.in_(("reserved", "lapsed"))))
                              .values(status="arrived"))
    await uow.session.execute(update(referrals).where(referrals.c.id == str(payload.referral_id))
                              .values(status="placed", updated_at=now))
    await refresh_pathway_bed(uow.session, home_id)
    await bump(uow.session)


async def on_phase_transitioned(uow: UnitOfWork, event: EventEnvelope, payload: PhaseTransitioned) -> None:
    await uow.session.execute(update(residents).where(residents.c.placement_id == str(payload.placement_id))
                              .values(phase=payload.to_phase))
    await bump(uow.session)


async def on_placement_ended(uow: UnitOfWork, event: EventEnvelope, payload: PlacementEnded) -> None:
    """The freed bed becomes the home's next Pathway Bed."""
    now = datetime.now(timezone.utc)
    await uow.session.execute(update(residents).where(residents.c.placement_id == str(payload.placement_id))
                              .values(end_date=payload.end_date))
    await uow.session.execute(update(beds).where(and_(beds.c.id == str(payload.bed_id),
                                                      beds.c.placement_id == str(payload.placement_id)))
                              .values(state="vacant", placement_id=None, updated_at=now))
    await refresh_pathway_bed(uow.session, str(payload.home_id), freed=str(payload.bed_id))
    await bump(uow.session)


HANDLERS = {
    "referral.received": on_referral_received,
    "referral.updated": on_referral_updated,
    "referral.withdrawn": on_referral_withdrawn,
    "placement.started": on_placement_started,
    "phase.transitioned": on_phase_transitioned,
    "placement.ended": on_placement_ended,
}
