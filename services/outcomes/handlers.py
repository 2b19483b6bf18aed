"""The outcomes service's consumers: the read models its measures and reports are computed from. Each sets
state (an upsert, an end set) rather than adding, so a redelivered event changes nothing; events of other
topics may arrive in any order, so each fills in what an earlier one could not know."""
from __future__ import annotations

from libs.common.restrictions import consumers as restriction_consumers

from libs.common.events.catalogue import (
    AdmissionAccepted,
    AdmissionDeclined,
    HomeOnboarded,
    ImpactRiskAssessed,
    InterventionClosed,
    InterventionFollowUpRecorded,
    InterventionSessionLogged,
    InterventionStarted,
    InterventionStatusChanged,
    InvoiceIssued,
    PlacementEnded,
    PlacementFeeApplied,
    PlacementStarted,
    ReferralReceived,
    ReferralWithdrawn,
)
from libs.common.events.envelope import EventEnvelope
from libs.common.events.outbox import UnitOfWork

from . import service
from .tables import restricted_children


async def on_referral(uow: UnitOfWork, event: EventEnvelope, payload: ReferralReceived) -> None:
    await service.record_referral(uow, referral_id=str(payload.referral_id), la_code=event.council(),
                                  child_ref=payload.child_ref, home_outward_code=payload.home_outward_code,
                                  urgency=payload.urgency, received_at=payload.received_at,
                                  needs=[n.code for n in payload.needs], kind=payload.kind,
                                  handoff_from_placement_id=str(payload.handoff_from_placement_id)
                                  if payload.handoff_from_placement_id else None)


async def on_withdrawn(uow: UnitOfWork, event: EventEnvelope, payload: ReferralWithdrawn) -> None:
    from .repository import withdraw_referral
    await withdraw_referral(uow.session, str(payload.referral_id))


async def on_home(uow: UnitOfWork, event: EventEnvelope, payload: HomeOnboarded) -> None:
    await service.record_home(uow, home_id=str(payload.home_id), postcode_district=payload.postcode_district,
                              places=payload.registered_places)


async def on_assessed(uow: UnitOfWork, event: EventEnvelope, payload: ImpactRiskAssessed) -> None:
    await service.record_assessment(uow, referral_id=str(payload.referral_id), la_code=event.council(),
                                    considered=payload.homes_considered, ranked=payload.homes_ranked,
                                    assessed_on=event.time.date())


async def on_accepted(uow: UnitOfWork, event: EventEnvelope, payload: AdmissionAccepted) -> None:
    await service.record_decision(uow, admission_id=str(payload.admission_id), referral_id=str(payload.referral_id),
                                  la_code=event.council(), decision="accepted", reason_code=None,
                                  home_id=str(payload.home_id), decided_at=event.time)


async def on_declined(uow: UnitOfWork, event: EventEnvelope, payload: AdmissionDeclined) -> None:
    await service.record_decision(uow, admission_id=str(payload.admission_id), referral_id=str(payload.referral_id),
                                  la_code=event.council(), decision="declined", reason_code=payload.reason_code,
                                  home_id=None, decided_at=event.time)


async def on_started(uow: UnitOfWork, event: EventEnvelope, payload: PlacementStarted) -> None:
    await service.placement_started(uow, placement_id=str(payload.placement_id), referral_id=str(payload.referral_id),
                                    la_code=event.council(), home_id=str(payload.home_id), start_date=payload.start_date)


async def on_ended(uow: UnitOfWork, event: EventEnvelope, payload: PlacementEnded) -> None:
    await service.placement_ended(uow, placement_id=str(payload.placement_id), end_date=payload.end_date,
                                  planned=payload.planned, ending_type=payload.ending_type,
                                  destination=payload.destination)


async def on_fee(uow: UnitOfWork, event: EventEnvelope, payload: PlacementFeeApplied) -> None:
    await service.fee_applied(uow, referral_id=str(payload.referral_id), la_code=event.council(), sequence=payload.sequence,
                              placement_id=str(payload.placement_id) if payload.placement_id else None,
                              contract_id=str(payload.contract_id) if payload.contract_id else None,
                              weekly_pence=payload.weekly_fee_pence, basis=payload.basis,
                              effective_date=payload.effective_date)


async def on_invoice(uow: UnitOfWork, event: EventEnvelope, payload: InvoiceIssued) -> None:
    if not payload.lines:
        return  # an older producer's invoice tells no lines: the fee-based estimate stands for those days
    await service.invoice_issued(uow, invoice_id=str(payload.invoice_id), la_code=event.council(),
                                 period_end=payload.period_end,
                                 contract_id=str(payload.contract_id) if payload.contract_id else None, lines=[
        dict(line_id=str(l.line_id), line_no=l.line_no, kind=l.kind, stream=l.stream, rate_key=l.rate_key,
             referral_id=str(l.referral_id) if l.referral_id else None,
             placement_id=str(l.placement_id) if l.placement_id else None, from_date=l.from_date,
             to_date=l.to_date, days=l.days, weekly_pence=l.weekly_pence, amount_pence=l.amount_pence,
             adjusts_line_id=str(l.adjusts_line_id) if l.adjusts_line_id else None,
             intervention_id=str(l.intervention_id) if l.intervention_id else None) for l in payload.lines])


# --- outreach interventions (itp.interventions, keyed by intervention id: in order per intervention) ---------
async def on_intervention_started(uow: UnitOfWork, event: EventEnvelope, payload: InterventionStarted) -> None:
    await service.intervention_started(uow, intervention_id=str(payload.intervention_id),
                                       referral_id=str(payload.referral_id), la_code=event.la_code,
                                       team_id=str(payload.team_id), basis=payload.basis,
                                       planned_weeks=payload.planned_weeks, start_date=payload.start_date,
                                       current_setting=payload.current_setting)


async def on_intervention_status(uow: UnitOfWork, event: EventEnvelope, payload: InterventionStatusChanged) -> None:
    await service.intervention_status(uow, intervention_id=str(payload.intervention_id), status=payload.to_status,
                                      effective_date=payload.effective_date)


async def on_intervention_session(uow: UnitOfWork, event: EventEnvelope, payload: InterventionSessionLogged) -> None:
    await service.intervention_session(uow, intervention_id=str(payload.intervention_id),
                                       session_id=str(payload.session_id), session_date=payload.session_date,
                                       minutes=payload.minutes)


async def on_intervention_follow_up(uow: UnitOfWork, event: EventEnvelope,
                                    payload: InterventionFollowUpRecorded) -> None:
    await service.intervention_follow_up(uow, intervention_id=str(payload.intervention_id),
                                         referral_id=str(payload.referral_id), la_code=event.la_code,
                                         checkpoint=payload.checkpoint, due_date=payload.due_date, held=payload.held,
                                         recorded_on=payload.recorded_on, breakdown_date=payload.breakdown_date)


async def on_intervention_closed(uow: UnitOfWork, event: EventEnvelope, payload: InterventionClosed) -> None:
    await service.intervention_closed(uow, intervention_id=str(payload.intervention_id),
                                      referral_id=str(payload.referral_id), la_code=event.la_code,
                                      team_id=str(payload.team_id), start_date=payload.start_date,
                                      end_date=payload.end_date, outcome=payload.outcome,
                                      stabilised_on=payload.stabilised_on)


HANDLERS = {"referral.received": on_referral, "referral.updated": on_referral, "referral.withdrawn": on_withdrawn,
            "home.onboarded": on_home,
            "impact_risk.assessed": on_assessed, "match.assessed": on_assessed,  # the deprecated alias
            "admission.accepted": on_accepted, "admission.declined": on_declined,
            "placement.started": on_started, "placement.ended": on_ended,
            "placement.fee_applied": on_fee, "invoice.issued": on_invoice,
            "intervention.started": on_intervention_started, "intervention.status_changed": on_intervention_status,
            "intervention.session_logged": on_intervention_session,
            "intervention.follow_up_recorded": on_intervention_follow_up,
            "intervention.closed": on_intervention_closed}

# referral.restricted / referral.restriction_lifted kept in restricted_children (libs.common.restrictions)
HANDLERS.update(restriction_consumers(restricted_children))
