"""Billing's consumers: what it needs to charge a stay. Idempotent twice over: the inbox drops a redelivered
event, and each operation sets state (an upsert, a transition replaced, an end date set) rather than adding."""
from __future__ import annotations

from libs.common.restrictions import consumers as restriction_consumers

from datetime import datetime, timezone

from libs.common.events.catalogue import (
    AdmissionAccepted,
    InterventionClosed,
    InterventionStarted,
    InterventionStatusChanged,
    OutreachAccepted,
    PhaseTransitioned,
    PlacementEnded,
    PlacementStarted,
    ReferralReceived,
)
from libs.common.events.envelope import EventEnvelope
from libs.common.events.outbox import UnitOfWork
from libs.common.ids import intervention_id_for

from . import service
from .tables import restricted_children


def _now() -> datetime:
    return datetime.now(timezone.utc)



async def on_referral(uow: UnitOfWork, event: EventEnvelope, payload: ReferralReceived) -> None:
    await service.record_referral(uow, referral_id=str(payload.referral_id), la_code=event.council(),
                                  child_ref=payload.child_ref)


async def on_admission_accepted(uow: UnitOfWork, event: EventEnvelope, payload: AdmissionAccepted) -> None:
    await service.record_admission(uow, admission_id=str(payload.admission_id), referral_id=str(payload.referral_id),
                                   home_id=str(payload.home_id), planned_start_date=payload.planned_start_date,
                                   fee_basis=payload.fee_basis_hint, la_code=event.la_code, now=_now())


async def on_placement_started(uow: UnitOfWork, event: EventEnvelope, payload: PlacementStarted) -> None:
    await service.placement_started(uow, placement_id=str(payload.placement_id), referral_id=str(payload.referral_id),
                                    la_code=event.council(), home_id=str(payload.home_id), start_date=payload.start_date,
                                    now=_now())


async def on_phase_transitioned(uow: UnitOfWork, event: EventEnvelope, payload: PhaseTransitioned) -> None:
    await service.phase_transitioned(uow, placement_id=str(payload.placement_id), from_phase=payload.from_phase,
                                     to_phase=payload.to_phase, effective_date=payload.effective_date,
                                     phase_ends_on=payload.phase_ends_on, now=_now())


async def on_placement_ended(uow: UnitOfWork, event: EventEnvelope, payload: PlacementEnded) -> None:
    await service.placement_ended(uow, placement_id=str(payload.placement_id), end_date=payload.end_date, now=_now())


async def on_outreach_accepted(uow: UnitOfWork, event: EventEnvelope, payload: OutreachAccepted) -> None:
    await service.record_intervention(uow, intervention_id=intervention_id_for(payload.admission_id),
                                      referral_id=str(payload.referral_id), la_code=event.council(),
                                      team_id=str(payload.team_id), basis=payload.basis,
                                      planned_weeks=payload.planned_weeks,
                                      planned_start_date=payload.planned_start_date, now=_now())


async def on_intervention_started(uow: UnitOfWork, event: EventEnvelope, payload: InterventionStarted) -> None:
    await service.record_intervention(uow, intervention_id=str(payload.intervention_id),
                                      referral_id=str(payload.referral_id), la_code=event.council(),
                                      team_id=str(payload.team_id), basis=payload.basis,
                                      planned_weeks=payload.planned_weeks, planned_start_date=payload.start_date,
                                      now=_now())


async def on_intervention_status(uow: UnitOfWork, event: EventEnvelope, payload: InterventionStatusChanged) -> None:
    await service.intervention_moved(uow, intervention_id=str(payload.intervention_id), to_status=payload.to_status,
                                     effective_date=payload.effective_date, now=_now())


async def on_intervention_closed(uow: UnitOfWork, event: EventEnvelope, payload: InterventionClosed) -> None:
    await service.intervention_closed(uow, intervention_id=str(payload.intervention_id), start_date=payload.start_date,
                                      end_date=payload.end_date, outcome=payload.outcome, now=_now())


HANDLERS = {"referral.received": on_referral, "referral.updated": on_referral,
            "admission.accepted": on_admission_accepted, "placement.started": on_placement_started,
            "phase.transitioned": on_phase_transitioned, "placement.ended": on_placement_ended,
            "outreach.accepted": on_outreach_accepted, "intervention.started": on_intervention_started,
            "intervention.status_changed": on_intervention_status, "intervention.closed": on_intervention_closed}

# referral.restricted / referral.restriction_lifted kept in restricted_children (libs.common.restrictions)
HANDLERS.update(restriction_consumers(restricted_children))
