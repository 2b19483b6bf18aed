"""The gateway's event consumer: each event about a council's child becomes one delivery per active
endpoint of THAT council subscribed to its type. Events without a council (a home onboarded, a fee
period closed) go to nobody. The inbox makes the fan-out idempotent; so does the unique
(endpoint, event) constraint."""
from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone

from sqlalchemy import event as sa_event

from libs.common.events.catalogue import CATALOGUE, DEPRECATED_ALIASES, Payload
from libs.common.events.envelope import EventEnvelope
from libs.common.events.outbox import UnitOfWork

from ..domain.webhooks import new_delivery_id, subscribed
from . import repository


def body_of(envelope: EventEnvelope) -> str:
    """What a council receives: the event (ids, codes, dates; events never carry names)."""
    return json.dumps({"type": envelope.type, "timestamp": envelope.time.isoformat(), "event_id": str(envelope.id),
                       "version": envelope.version, "la_code": envelope.la_code, "subject_id": envelope.subject_id,
                       "data": envelope.payload}, separators=(",", ":"), sort_keys=True)


def handlers(wake: asyncio.Event) -> dict:
    async def fan_out(uow: UnitOfWork, envelope: EventEnvelope, payload: Payload) -> None:
        if not envelope.la_code:
            return
        endpoints = await repository.active_endpoints_of(uow.session, envelope.la_code)
        targets = [endpoint_id for endpoint_id, types in endpoints if subscribed(types, envelope.type, DEPRECATED_ALIASES)]
        if not targets:
            return
        already = await repository.endpoints_with_delivery(uow.session, str(envelope.id), targets)
        now = datetime.now(timezone.utc)
        body = body_of(envelope)
        rows = [dict(id=new_delivery_id(), endpoint_id=endpoint_id, la_code=envelope.la_code,
                     event_id=str(envelope.id), event_type=envelope.type, body=body, state="pending", attempts=0,
                     next_attempt_at=now, created_at=now, updated_at=now)
                for endpoint_id in targets if endpoint_id not in already]
        if rows:
            await repository.insert_deliveries(uow.session, rows)
            sa_event.listen(uow.session.sync_session, "after_commit", lambda _s: wake.set(), once=True)

    return {event_type: fan_out for event_type in CATALOGUE}
