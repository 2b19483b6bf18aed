"""Idempotent consumers: inbox deduplication, retries with backoff, then the dead-letter topic.

A handler receives a UnitOfWork (its session plus emit()) and the typed payload. The inbox row,
the handler's writes and any events it emits commit in one transaction; only then does the
transport advance the group's position. A duplicate delivery finds the inbox row and changes nothing.

Batches: what the transport already holds (a backlog, a replay) arrives as a batch. Its events are
deduplicated against the inbox in one query and handled, in order, in one transaction: one inbox insert,
every handler's writes, one commit, then the position moves past the batch. A handler that must run in its
own transaction is marked `@per_event` and the batch is split around it. When anything in a batch fails
(a poison event, a unique-key race with another replica), the batch's transaction is rolled back and its
events are handled one by one as a single record is (retries, then the dead-letter topic), so the failing
event is isolated and parked and the others still land once. On Kafka a backlog is pipelined: the next batch is
fetched and decoded (decode_batch; a payload that does not parse is set apart there and handled alone) while the
one before waits on the database, and batches are still handled one at a time, in order.
"""
from __future__ import annotations

import asyncio
import functools
import json
import logging
import traceback
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Awaitable, Callable

from sqlalchemy import Table, select
from sqlalchemy.exc import IntegrityError

from ..db import Database, dialect_insert, insert_many, is_unavailable, member_of
from ..observability import correlation_id_var, service_var
from .catalogue import CATALOGUE, Payload, dead_letter_topic, parse_payload
from .envelope import EventEnvelope
from .outbox import UnitOfWork
from .transport import Record, Subscription, Transport

log = logging.getLogger("itp.consumer")

Handler = Callable[[UnitOfWork, EventEnvelope, Payload], Awaitable[None]]


ManyHandler = Callable[[UnitOfWork, list[tuple[EventEnvelope, Payload]]], Awaitable[None]]


def handles_many(many: ManyHandler):
    """Give a handler a set-based form for a run of consecutive events of its type in one batch (for read
    models: one statement for many events). The form applies the events in the order given and emits no
    events (the batch falls back to one by one if it does)."""
    def mark(handler: Handler) -> Handler:
        handler.itp_many = many  # type: ignore[attr-defined]
        return handler
    return mark


def per_event(handler: Handler) -> Handler:
    """Mark a handler that must not share a transaction with other events (it is then never batched)."""
    handler.itp_per_event = True  # type: ignore[attr-defined]
    return handler


@functools.cache
def _claim_statement(inbox: Table, dialect: str):
    """EventConsumer._claim's statement for an inbox table, built once (each event ran it, and building a statement
    and its cache key costs more CPU than running this one)."""
    return (dialect_insert(dialect)(inbox).on_conflict_do_nothing(index_elements=[inbox.c.event_id])
            .returning(inbox.c.event_id))


DECODE_SLICE = 25  # records decoded between two yields to the event loop (about half a millisecond)


@dataclass(slots=True)
class Decoded:
    """A record as decode_batch leaves it: its envelope and payload, or (envelope None) why it cannot be read.
    payload None with an envelope: the payload does not parse (the event is handled alone, retried, parked)."""
    record: Record
    envelope: EventEnvelope | None = None
    payload: Payload | None = None
    error: str | None = None


@dataclass
class HandleResult:
    handled: bool = False
    duplicate: bool = False
    ignored: bool = False


class EventConsumer:
    def __init__(self, service: str, db: Database, tables: tuple[Table, Table, Table], transport: Transport,
                 handlers: dict[str, Handler], *, retry_attempts: int = 4, retry_backoff: float = 0.2,
                 max_batch: int = 500):
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
        self.max_batch = max(1, max_batch)  # 1: every event in its own transaction (the per-event path)
        self.batches = 0  # batches handled in one transaction
        self.batch_fallbacks = 0  # batches that failed and were handled event by event
        self.outage_waits = 0  # waits for an unavailable database (an event is never parked for one)
        self.handled = 0  # events whose handler's transaction committed (duplicates and ignored ones not counted)
        self._subscription: Subscription | None = None

    @property
    def topics(self) -> list[str]:
        return sorted({CATALOGUE[t].topic for t in self.handlers})

    async def start(self) -> None:
        if self.handlers and self._subscription is None:
            if self.max_batch > 1:
                self._subscription = await self.transport.subscribe(
                    self.service, self.topics, self.on_record, batch_handler=self.deliver_batch,
                    max_batch=self.max_batch, prepare=self.decode_batch)
            else:
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
        await self._deliver(record, envelope)

    def decode(self, record: Record) -> Decoded | None:
        """A record's envelope and payload (None: an event of a type this consumer does not handle)."""
        try:
            envelope = EventEnvelope.from_bytes(record.value)
        except Exception as exc:  # noqa: BLE001 - parked raw as a single record is
            return Decoded(record, error=f"undecodable envelope: {type(exc).__name__}")
        if envelope.type not in self.handlers:
            return None
        try:
            payload = parse_payload(envelope.type, envelope.payload)
        except Exception:  # noqa: BLE001 - handled alone (retried, then parked), as a single record is
            payload = None
        return Decoded(record, envelope, payload)

    async def decode_batch(self, records: list[Record]) -> list[Decoded]:
        """A fetched batch decoded (CPU only, ~20 us an event). The Kafka transport decodes the next batch while
        this consumer's database handles the one before; it yields to the event loop every DECODE_SLICE records,
        so the batch being handled goes on as soon as its database answers. Events of types this consumer does
        not handle are dropped here; an undecodable envelope is kept, in its place, to be parked raw."""
        decoded = []
        for start in range(0, len(records), DECODE_SLICE):
            if start:
                await asyncio.sleep(0)
            for record in records[start:start + DECODE_SLICE]:
                item = self.decode(record)
                if item is not None:
                    decoded.append(item)
        return decoded

    async def on_batch(self, records: list[Record]) -> None:
        """A fetched batch: runs of batchable events each in one transaction; @per_event ones alone."""
        await self.deliver_batch(await self.decode_batch(records))

    async def deliver_batch(self, batch: list[Decoded]) -> None:
        service_var.set(self.service)
        run: list[Decoded] = []
        for item in batch:
            if item.envelope is None:
                await self._deliver_run(run)
                run = []
                await self._park_raw(item.record, item.error or "undecodable envelope")
            elif item.payload is None or getattr(self.handlers[item.envelope.type], "itp_per_event", False):
                await self._deliver_run(run)
                run = []
                await self._deliver(item.record, item.envelope, item.payload)
            else:
                run.append(item)
        await self._deliver_run(run)

    async def _deliver_run(self, run: list[Decoded]) -> None:
        if len(run) == 1:
            await self._deliver(run[0].record, run[0].envelope, run[0].payload)
            return
        if not run:
            return
        try:
            await self.handle_batch([item.envelope for item in run], [item.payload for item in run])
            self.batches += 1
            return
        except Exception as exc:  # noqa: BLE001 - rolled back: every event of the batch is handled again alone
            self.batch_fallbacks += 1
            log.warning("batch failed; handling its events one by one",
                        extra={"events": len(run), "error_type": type(exc).__name__})
        for item in run:
            await self._deliver(item.record, item.envelope, item.payload)

    async def _deliver(self, record: Record, envelope: EventEnvelope, payload: Payload | None = None) -> None:
        """One event in its own transaction, retried with backoff, then parked on the dead-letter topic. A
        database that cannot be reached is not the event's fault: the event waits for it (its attempts are not
        used up, and it is never parked for it: the dead-letter row is written to that same database)."""
        error = ""
        attempt = waits = 0
        while attempt < self.retry_attempts:
            try:
                await self.handle(envelope, payload)
                return
            except Exception as exc:
                if is_unavailable(exc):
                    waits += 1
                    await self._database_unavailable(envelope, exc, waits)
                    continue
                attempt += 1
                # the error's text goes to the dead-letter row and topic (for the operator who replays it), never
                # to a log line: a database error's message may quote the event's data
                error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
                log.warning("handler failed", extra={"event_id": str(envelope.id), "event_type": envelope.type,
                                                     "attempt": attempt, "error_type": type(exc).__name__})
                if attempt < self.retry_attempts:
                    await asyncio.sleep(self.retry_backoff * (2 ** (attempt - 1)))
        while True:
            try:
                await self.park(envelope, record.topic, error, self.retry_attempts)
                return
            except Exception as exc:
                if not is_unavailable(exc):
                    raise
                waits += 1
                await self._database_unavailable(envelope, exc, waits)

    async def _database_unavailable(self, envelope: EventEnvelope, exc: BaseException, waits: int) -> None:
        """Wait a little (growing to 5 s) before trying an event again while the database is unavailable."""
        self.outage_waits += 1
        log.warning("database unavailable; the event waits for it",
                    extra={"event_id": str(envelope.id), "event_type": envelope.type, "waits": waits,
                           "error_type": type(exc).__name__})
        await asyncio.sleep(min(5.0, max(self.retry_backoff, 0.05) * 2 ** min(waits - 1, 7)))

    async def handle(self, envelope: EventEnvelope, payload: Payload | None = None) -> HandleResult:
        """One event in its own transaction (`payload`: the envelope's, already parsed)."""
        handler = self.handlers.get(envelope.type)
        if handler is None:
            return HandleResult(ignored=True)
        if payload is None:
            payload = parse_payload(envelope.type, envelope.payload)
        token = correlation_id_var.set(envelope.correlation_id)
        service_token = service_var.set(self.service)
        try:
            async with UnitOfWork(self.db, self.outbox, self.service, correlation_id=envelope.correlation_id,
                                  causation_id=str(envelope.id)) as uow:
                if not await self._claim(uow, envelope):
                    return HandleResult(duplicate=True)
                await handler(uow, envelope, payload)
                try:
                    await uow.commit()
                except IntegrityError:
                    # a concurrent delivery of the same event won the inbox row
                    return HandleResult(duplicate=True)
                self.handled += 1
                return HandleResult(handled=True)
        finally:
            correlation_id_var.reset(token)
            service_var.reset(service_token)

    async def _claim(self, uow: UnitOfWork, envelope: EventEnvelope) -> bool:
        """The event's inbox row, inserted unless it is there: one statement (INSERT .. ON CONFLICT DO NOTHING
        RETURNING), not a SELECT then an INSERT. False: handled before (or by a concurrent delivery, whose
        transaction this one waited for on the key)."""
        row = dict(event_id=str(envelope.id), event_type=envelope.type, handled_at=datetime.now(timezone.utc))
        claimed = await uow.session.execute(_claim_statement(self.inbox, uow.session.bind.dialect.name), row)
        return claimed.first() is not None

    async def handle_batch(self, envelopes: list[EventEnvelope],
                           payloads: list[Payload] | None = None) -> list[HandleResult]:
        """Several events in one transaction: the inbox asked once for all of them, their inbox rows inserted in
        one statement, each handler run in order, one commit. Raises (after rolling everything back) when any
        handler or the commit fails; the caller then handles the events one by one. `payloads`: the envelopes'
        payloads, already parsed."""
        if payloads is None:
            payloads = [parse_payload(envelope.type, envelope.payload) if envelope.type in self.handlers else None
                        for envelope in envelopes]
        results = [HandleResult() for _ in envelopes]
        ids = [str(envelope.id) for envelope in envelopes]
        service_token = service_var.set(self.service)
        token = correlation_id_var.set(None)
        try:
            async with UnitOfWork(self.db, self.outbox, self.service) as uow:
                seen = set((await uow.session.execute(select(self.inbox.c.event_id).where(
                    member_of(uow.session, self.inbox.c.event_id, set(ids))))).scalars())
                fresh: list[tuple[int, EventEnvelope]] = []
                for i, envelope in enumerate(envelopes):
                    handler = self.handlers.get(envelope.type)
                    if handler is None:
                        results[i].ignored = True
                    elif ids[i] in seen:
                        results[i].duplicate = True
                    else:
                        seen.add(ids[i])  # the same event twice in one batch is handled once
                        fresh.append((i, envelope))
                if fresh:
                    now = datetime.now(timezone.utc)
                    await insert_many(uow.session, self.inbox, [
                        dict(event_id=ids[i], event_type=envelope.type, handled_at=now) for i, envelope in fresh])
                k = 0
                while k < len(fresh):
                    i, envelope = fresh[k]
                    handler = self.handlers[envelope.type]
                    many = getattr(handler, "itp_many", None)
                    if many is not None:  # the run of consecutive events of this type, in one call
                        end = k
                        while end < len(fresh) and fresh[end][1].type == envelope.type:
                            end += 1
                        emitted = len(uow.emitted)
                        await many(uow, [(e, payloads[j]) for j, e in fresh[k:end]])
                        if len(uow.emitted) != emitted:
                            raise RuntimeError(f"the set-based handler of {envelope.type} emitted events")
                        for j, _ in fresh[k:end]:
                            results[j].handled = True
                        k = end
                        continue
                    payload = payloads[i]
                    uow.correlation_id = envelope.correlation_id
                    uow.causation_id = ids[i]
                    correlation_id_var.set(envelope.correlation_id)
                    await handler(uow, envelope, payload)
                    results[i].handled = True
                    k += 1
                await uow.commit()
            self.handled += sum(result.handled for result in results)
            return results
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
