"""Idempotent consumers: inbox deduplication, retries with backoff, then the dead-letter topic.

A handler receives a UnitOfWork (its session plus emit()) and the typed payload. The inbox row,
the handler's writes and any events it emits commit in one transaction; only then does the
transport advance the group's position. A duplicate delivery finds the inbox row and changes nothing.
"""
from __future__ import annotations

import asyncio
import json
import logging
import traceback
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Awaitable, Callable

from sqlalchemy import Table, select
from sqlalchemy.exc import IntegrityError

from ..db import Database
from ..observability import correlation_id_var, service_var
from .catalogue import CATALOGUE, Payload, dead_letter_topic, parse_payload
from .envelope import EventEnvelope
from .outbox import UnitOfWork
from .transport import Record, Subscription, Transport

log = logging.getLogger("itp.consumer")

Handler = Callable[[UnitOfWork, EventEnvelope, Payload], Awaitable[None]]


@dataclass
class HandleResult:
    handled: bool = False
    duplicate: bool = False
    ignored: bool = False


class EventConsumer:
    def __init__(self, service: str, db: Database, tables: tuple[Table, Table, Table], transport: Transport,
                 handlers: dict[str, Handler], *, retry_attempts: int = 4, retry_backoff: float = 0.2):
        unknown = set(handlers) - set(CATALOGUE)
        if unknown:
            raise ValueError(f"handlers for events not in the catalogue: {sorted(unknown)}")
        self.service = service
        self.db = db
        self.outbox, self.inbox, self.dead_letters = tables
        self.transport = transport
        self.handlers = handlers
        self.retry_attempts = max(1, retry_attempts)
        self.retry_backoff = retry_backoff
        self._subscription: Subscription | None = None

    @property
    def topics(self) -> list[str]:
        return sorted({CATALOGUE[t].topic for t in self.handlers})

    async def start(self) -> None:
        if self.handlers and self._subscription is None:
            self._subscription = await self.transport.subscribe(self.service, self.topics, self.on_record)

    async def stop(self) -> None:
        if self._subscription is not None:
            await self._subscription.stop()
            self._subscription = None

    async def on_record(self, record: Record) -> None:
        service_var.set(self.service)
        try:
            envelope = EventEnvelope.from_bytes(record.value)
        except Exception as exc:  # a poison record: park it raw, never block the partition
            await self._park_raw(record, f"undecodable envelope: {type(exc).__name__}")
            return
        if envelope.type not in self.handlers:
            return
        error = ""
        for attempt in range(1, self.retry_attempts + 1):
            try:
                await self.handle(envelope)
                return
            except Exception as exc:
                # the error's text goes to the dead-letter row and topic (for the operator who replays it), never
                # to a log line: a database error's message may quote the event's data
                error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
                log.warning("handler failed", extra={"event_id": str(envelope.id), "event_type": envelope.type,
                                                     "attempt": attempt, "error_type": type(exc).__name__})
                if attempt < self.retry_attempts:
                    await asyncio.sleep(self.retry_backoff * (2 ** (attempt - 1)))
        await self.park(envelope, record.topic, error, self.retry_attempts)

    async def handle(self, envelope: EventEnvelope) -> HandleResult:
        handler = self.handlers.get(envelope.type)
        if handler is None:
            return HandleResult(ignored=True)
        payload = parse_payload(envelope.type, envelope.payload)
        token = correlation_id_var.set(envelope.correlation_id)
        service_token = service_var.set(self.service)
        try:
            async with UnitOfWork(self.db, self.outbox, self.service, correlation_id=envelope.correlation_id,
                                  causation_id=str(envelope.id)) as uow:
                seen = (await uow.session.execute(select(self.inbox.c.event_id)
                                                  .where(self.inbox.c.event_id == str(envelope.id)))).first()
                if seen:
                    return HandleResult(duplicate=True)
                await uow.session.execute(self.inbox.insert().values(
                    event_id=str(envelope.id), event_type=envelope.type, handled_at=datetime.now(timezone.utc)))
                await handler(uow, envelope, payload)
                try:
                    await uow.commit()
                except IntegrityError:
                    # a concurrent delivery of the same event won the inbox row
                    return HandleResult(duplicate=True)
                return HandleResult(handled=True)
        finally:
            correlation_id_var.reset(token)
            service_var.reset(service_token)

    async def park(self, envelope: EventEnvelope, topic: str, error: str, attempts: int) -> None:
        now = datetime.now(timezone.utc)
        async with self.db.session() as session, session.begin():
            await session.execute(self.dead_letters.insert().values(
                event_id=str(envelope.id), event_type=envelope.type, topic=topic,
                envelope=envelope.model_dump_json(), error=error, attempts=attempts, parked_at=now, status="parked"))
        await self.transport.publish(dead_letter_topic(self.service), envelope.subject_id, envelope.to_bytes(),
                                     {"event_type": envelope.type, "error": error[:2000], "attempts": str(attempts),
                                      "original_topic": topic, "consumer": self.service})
        log.error("event parked on the dead-letter topic",
                  extra={"event_id": str(envelope.id), "event_type": envelope.type,
                         "error_type": error.split(":", 1)[0][:200]})

    async def _park_raw(self, record: Record, error: str) -> None:
        await self.transport.publish(dead_letter_topic(self.service), record.key, record.value,
                                     {"error": error[:2000], "original_topic": record.topic, "consumer": self.service})
        log.error("undecodable record parked", extra={"topic": record.topic, "offset": record.offset})

    async def replay_dead_letters(self, event_id: str | None = None) -> list[dict]:
        """Deliver parked events to the (fixed) handler again, once each; still-failing ones stay parked."""
        q = select(self.dead_letters).where(self.dead_letters.c.status == "parked").order_by(self.dead_letters.c.id)
        if event_id:
            q = q.where(self.dead_letters.c.event_id == event_id)
        async with self.db.session() as session:
            rows = (await session.execute(q)).mappings().all()
        report = []
        for row in rows:
            envelope = EventEnvelope.model_validate(json.loads(row["envelope"]))
            try:
                result = await self.handle(envelope)
                status, err = "replayed", None
            except Exception as exc:
                result, status, err = None, "parked", str(exc)
            async with self.db.session() as session, session.begin():
                values = {"status": status}
                if status == "replayed":
                    values["replayed_at"] = datetime.now(timezone.utc)
                else:
                    values["error"] = err
                    values["attempts"] = row["attempts"] + 1
                await session.execute(self.dead_letters.update().where(self.dead_letters.c.id == row["id"])
                                      .values(**values))
            if status == "replayed":
                self.db.outbox_signal.set()
            report.append({"event_id": row["event_id"], "event_type": row["event_type"], "status": status,
                           "duplicate": bool(result and result.duplicate), "error": err})
        return report
