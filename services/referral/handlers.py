"""The referral service's consumers: the hub's decisions, made in matching, move the referral on.

- impact_risk.assessed (formerly match.assessed, still handled) moves a received referral to
  in_assessment: the hub has recorded an impact risk assessment (an explicit POST in matching; merely
  viewing the matches records nothing), so the council can see its referral is being worked on. A later
  assessment of the same referral changes nothing.
- admission.accepted and admission.declined decide it (accepted or declined, with the admission id or
  the coded decline reason); outreach.accepted accepts an outreach referral as admission.accepted a bed one
  (issue 16). An accepted bed referral keeps its placement's id (libs.common.ids), so that:
- placement.ended with an outreach_handoff (a step-down handing the child to outreach in the next placement)
  opens an outreach referral for the child, once per placement.
An event that would be an illegal move (for example an acceptance arriving after the council withdrew)
is recorded in the log by ids only and otherwise ignored. Each move emits referral.status_changed: the referral keeps the state the council saw,
and retrying the event could never make the move legal. The rules are service.move_on; this module only
decodes and calls it with the consumer's unit of work.
"""
from __future__ import annotations

from libs.common.events.catalogue import (AdmissionAccepted, AdmissionDeclined, ImpactRiskAssessed, OutreachAccepted,
                                          PlacementEnded)
from libs.common.events.envelope import EventEnvelope
from libs.common.events.outbox import UnitOfWork

from libs.common.ids import placement_id_for

from .domain.outreach import Handoff
from .domain.status import Status
from .service import move_on, open_handoff


def _ids(event: EventEnvelope) -> dict:
    return {"event_id": str(event.id), "event_type": event.type}


async def on_impact_risk_assessed(uow: UnitOfWork, event: EventEnvelope, payload: ImpactRiskAssessed) -> None:
    await move_on(uow, payload.referral_id, Status.in_assessment, **_ids(event), at=event.time,
                  reason_code="impact_risk_assessed")


async def on_admission_accepted(uow: UnitOfWork, event: EventEnvelope, payload: AdmissionAccepted) -> None:
    await move_on(uow, payload.referral_id, Status.accepted, **_ids(event), at=event.time, decided_at=event.time,
                  admission_id=str(payload.admission_id), decision_reason=None,
                  placement_id=placement_id_for(payload.admission_id))


async def on_outreach_accepted(uow: UnitOfWork, event: EventEnvelope, payload: OutreachAccepted) -> None:
    await move_on(uow, payload.referral_id, Status.accepted, **_ids(event), at=event.time, decided_at=event.time,
                  admission_id=str(payload.admission_id), decision_reason=None)


async def on_placement_ended(uow: UnitOfWork, event: EventEnvelope, payload: PlacementEnded) -> None:
    h = payload.outreach_handoff
    if h is None:
        return  # an ending without a handoff is none of the referral service's business
    await open_handoff(uow, Handoff(placement_id=str(payload.placement_id), end_date=payload.end_date,
                                    basis=h.basis, planned_weeks=h.planned_weeks, setting=h.setting,
                                    outward_code=h.outward_code), event_id=str(event.id))


async def on_admission_declined(uow: UnitOfWork, event: EventEnvelope, payload: AdmissionDeclined) -> None:
    await move_on(uow, payload.referral_id, Status.declined, **_ids(event), at=event.time, decided_at=event.time,
                  reason_code=payload.reason_code, admission_id=str(payload.admission_id),
                  decision_reason=payload.reason_code)


HANDLERS = {
    "impact_risk.assessed": on_impact_risk_assessed,
    "match.assessed": on_impact_risk_assessed,  # the former type of impact_risk.assessed, still decoded
    "admission.accepted": on_admission_accepted,
    "admission.declined": on_admission_declined,
    "outreach.accepted": on_outreach_accepted,
    "placement.ended": on_placement_ended,
}
