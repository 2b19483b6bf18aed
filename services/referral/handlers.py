"""The referral service's consumers: the hub's decisions, made in matching, move the referral on.

- match.assessed moves a received referral to in_assessment: the hub has run the impact risk
  assessment, so the council can see its referral is being worked on. A later assessment of the same
  referral changes nothing.
- admission.accepted and admission.declined decide it (accepted or declined, with the admission id or
  the coded decline reason).
An event that would be an illegal move (for example an acceptance arriving after the council withdrew)
is recorded in the log by ids only and otherwise ignored: the referral keeps the state the council saw,
and retrying the event could never make the move legal.
"""
from __future__ import annotations

import logging
from sqlalchemy import select

from libs.common.events.catalogue import AdmissionAccepted, AdmissionDeclined, MatchAssessed
from libs.common.events.envelope import EventEnvelope
from libs.common.events.outbox import UnitOfWork

from . import repository as repo
from .domain.status import Status, can_move
from .tables import referrals

log = logging.getLogger("itp.referral.handlers")


async def _move(uow: UnitOfWork, event: EventEnvelope, referral_id, to: Status, **values) -> None:
    stmt = select(referrals).where(referrals.c.id == str(referral_id)).with_for_update()
    row = (await uow.session.execute(stmt)).mappings().first()
    if row is None:
        log.warning("decision for an unknown referral", extra={"event_id": str(event.id), "event_type": event.type,
                                                               "referral_id": str(referral_id)})
        return
    if row["status"] == to.value:
        return
    if not can_move(row["status"], to):
        log.warning("decision ignored: illegal move", extra={
            "event_id": str(event.id), "event_type": event.type, "referral_id": str(referral_id),
            "from_status": row["status"], "to_status": to.value})
        return
    if await repo.save(uow.session, dict(row), status=to.value, **values) is None:
        raise RuntimeError("the referral changed meanwhile")  # the consumer retries with a fresh read


async def on_match_assessed(uow: UnitOfWork, event: EventEnvelope, payload: MatchAssessed) -> None:
    await _move(uow, event, payload.referral_id, Status.in_assessment)


async def on_admission_accepted(uow: UnitOfWork, event: EventEnvelope, payload: AdmissionAccepted) -> None:
    await _move(uow, event, payload.referral_id, Status.accepted, decided_at=event.time,
                admission_id=str(payload.admission_id), decision_reason=None)


async def on_admission_declined(uow: UnitOfWork, event: EventEnvelope, payload: AdmissionDeclined) -> None:
    await _move(uow, event, payload.referral_id, Status.declined, decided_at=event.time,
                admission_id=str(payload.admission_id), decision_reason=payload.reason_code)


HANDLERS = {
    "match.assessed": on_match_assessed,
    "admission.accepted": on_admission_accepted,
    "admission.declined": on_admission_declined,
}
