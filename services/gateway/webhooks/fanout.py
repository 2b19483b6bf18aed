"""The gateway's event consumer: each event about a council's child becomes one delivery per active
endpoint of THAT council subscribed to its type. Events without a council (a home onboarded, a fee
period closed) go to nobody. The inbox makes the fan-out idempotent; so does the unique
(endpoint, event) constraint.

Restrictions of processing (decision 0006): the consumer also keeps the gateway's copy of the restrictions
(libs.common.restrictions) and which child each placement and intervention is. An event about a child whose
record is under a restriction is not sent to the council: each subscribed endpoint's delivery is logged as
withheld (the reason as a code and the restriction's id; nothing of the event is kept), so the council's
integration team sees the gap and why. referral.restricted and referral.restriction_lifted themselves go."""
from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone

from sqlalchemy import event as sa_event

from libs.common.events.catalogue import CATALOGUE, DEPRECATED_ALIASES, Payload
from libs.common.events.envelope import EventEnvelope
from libs.common.events.outbox import UnitOfWork
from libs.common.restrictions import consumers as restriction_consumers

from ..domain.webhooks import WITHHELD, WITHHELD_FOR_RESTRICTION, new_delivery_id, subscribed
from ..tables import restricted_children
from . import repository, service


def body_of(envelope: EventEnvelope, data: dict | None = None) -> str:
    """What a council receives: the event (ids, codes, dates; events never carry names); `data`, the payload as
    the council may have it (an invoice's restricted lines withheld), when it differs."""
    return json.dumps({"type": envelope.type, "timestamp": envelope.time.isoformat(), "event_id": str(envelope.id),
                       "version": envelope.version, "la_code": envelope.la_code, "subject_id": envelope.subject_id,
                       "data": envelope.payload if data is None else data}, separators=(",", ":"), sort_keys=True)


def handlers(wake: asyncio.Event) -> dict:
    async def fan_out(uow: UnitOfWork, envelope: EventEnvelope, payload: Payload) -> None:
        now = datetime.now(timezone.utc)
        # first, whatever the event's council and subscriptions: an endpoint registered later needs the links
        child = await service.child_of(uow.session, envelope.type, envelope.payload, now)
        if not envelope.la_code:
            return
        endpoints = await repository.active_endpoints_of(uow.session, envelope.la_code)
        targets = [endpoint_id for endpoint_id, types in endpoints if subscribed(types, envelope.type, DEPRECATED_ALIASES)]
        if not targets:
            return
        already = await repository.endpoints_with_delivery(uow.session, str(envelope.id), targets)
        targets = [endpoint_id for endpoint_id in targets if endpoint_id not in already]
        if not targets:
            return
        data, restriction = await service.council_copy(uow.session, envelope.type, envelope.payload, child)
        common = dict(la_code=envelope.la_code, event_id=str(envelope.id), event_type=envelope.type, attempts=0,
                      created_at=now, updated_at=now, referral_id=child)
        if restriction is not None:  # logged, never sent, nothing of the event kept
            rows = [dict(id=new_delivery_id(), endpoint_id=endpoint_id, body="", state=WITHHELD, next_attempt_at=None,
                         withheld_reason=WITHHELD_FOR_RESTRICTION, restriction_id=restriction["restriction_id"],
                         **common) for endpoint_id in targets]
            await repository.insert_deliveries(uow.session, rows)
            return
        body = body_of(envelope, data)
        rows = [dict(id=new_delivery_id(), endpoint_id=endpoint_id, body=body, state="pending", next_attempt_at=now,
                     withheld_reason=None, restriction_id=None, **common) for endpoint_id in targets]
        await repository.insert_deliveries(uow.session, rows)
        sa_event.listen(uow.session.sync_session, "after_commit", lambda _s: wake.set(), once=True)

    every = {event_type: fan_out for event_type in CATALOGUE}
    # referral.restricted / referral.restriction_lifted: kept in restricted_children, then fanned out themselves
    every.update(restriction_consumers(restricted_children, then=fan_out))
    return every
