"""Matching's consumers: the referrals read model (referral events) and the residents read model
(the assessment service's placement events), which move beds and the Pathway Bed; intervention.closed (the
assessment service's outreach interventions, issue 16) gives an outreach team its caseload place back. Each decodes its
payload and calls a service operation with the consumer's unit of work (the consumer commits)."""
from __future__ import annotations

from libs.common.restrictions import consumers as restriction_consumers

from libs.common.events.consumer import handles_many
from libs.common.events.catalogue import (InterventionClosed, PhaseTransitioned, PlacementEnded, PlacementFeeApplied, PlacementStarted,
                                          ReferralReceived, ReferralUpdated, ReferralWithdrawn)
from libs.common.events.envelope import EventEnvelope
from libs.common.events.outbox import UnitOfWork

from . import service
from .tables import restricted_children
from .repository import utcnow


def _facts(payload: ReferralReceived) -> dict:
    return dict(date_of_birth=payload.date_of_birth, sex=payload.sex, home_outward_code=payload.home_outward_code,
                needs=payload.needs, risks=payload.risks, urgency=payload.urgency,
                wanted_start_date=payload.wanted_start_date, kind=payload.kind,
                current_setting=payload.current_setting, at_risk=payload.at_risk,
                outreach_basis=payload.outreach_basis, outreach_planned_weeks=payload.outreach_planned_weeks,
                requirements=payload.placement_requirements.model_dump() if payload.placement_requirements else None)


async def on_referrals_received(uow: UnitOfWork, events: list[tuple[EventEnvelope, ReferralReceived]]) -> None:
    """A run of referral.received in one batch (a backlog, a replay): one read and one insert for all."""
    await service.referrals_received(uow, [(str(payload.referral_id), event.la_code, payload.received_at, event.time,
                                            _facts(payload)) for event, payload in events])


@handles_many(on_referrals_received)
async def on_referral_received(uow: UnitOfWork, event: EventEnvelope, payload: ReferralReceived) -> None:
    await service.referral_received(uow, str(payload.referral_id), event.la_code, payload.received_at, event.time,
                                    **_facts(payload))


async def on_referral_updated(uow: UnitOfWork, event: EventEnvelope, payload: ReferralUpdated) -> None:
    await service.referral_updated(uow, str(payload.referral_id), payload.status, event.time, **_facts(payload))


async def on_referral_withdrawn(uow: UnitOfWork, event: EventEnvelope, payload: ReferralWithdrawn) -> None:
    await service.referral_withdrawn(uow, str(payload.referral_id), utcnow())


async def on_placement_started(uow: UnitOfWork, event: EventEnvelope, payload: PlacementStarted) -> None:
    await service.placement_started(uow, placement_id=str(payload.placement_id), referral_id=str(payload.referral_id),
                                    home_id=str(payload.home_id), bed_id=str(payload.bed_id),
                                    start_date=payload.start_date, now=utcnow())


async def on_phase_transitioned(uow: UnitOfWork, event: EventEnvelope, payload: PhaseTransitioned) -> None:
    await service.phase_moved(uow, str(payload.placement_id), payload.to_phase)


async def on_placement_ended(uow: UnitOfWork, event: EventEnvelope, payload: PlacementEnded) -> None:
    await service.placement_ended(uow, placement_id=str(payload.placement_id), home_id=str(payload.home_id),
                                  bed_id=str(payload.bed_id), end_date=payload.end_date, now=utcnow())


async def on_fee_applied(uow: UnitOfWork, event: EventEnvelope, payload: PlacementFeeApplied) -> None:
    await service.weekly_fee_applied(uow, payload, utcnow())


async def on_intervention_closed(uow: UnitOfWork, event: EventEnvelope, payload: InterventionClosed) -> None:
    await service.intervention_closed(uow, str(payload.referral_id), intervention_id=str(payload.intervention_id),
                                      outcome=payload.outcome, now=utcnow())


HANDLERS = {
    "referral.received": on_referral_received,
    "referral.updated": on_referral_updated,
    "referral.withdrawn": on_referral_withdrawn,
    "placement.started": on_placement_started,
    "phase.transitioned": on_phase_transitioned,
    "placement.ended": on_placement_ended,
    "placement.fee_applied": on_fee_applied,
    "intervention.closed": on_intervention_closed,
}

# referral.restricted / referral.restriction_lifted kept in restricted_children (libs.common.restrictions)
HANDLERS.update(restriction_consumers(restricted_children))
