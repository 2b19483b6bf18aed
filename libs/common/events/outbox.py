"""The transactional outbox: state and events commit together; a relay publishes them after commit.

A UnitOfWork owns one database transaction. Domain code asks it to emit() typed payloads; they are
written to the service's outbox table in the same transaction, and the commit wakes the relay
(in-process through an asyncio.Event; across processes on Postgres through NOTIFY, which Postgres
delivers only when the transaction commits).
"""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone

from sqlalchemy import MetaData, Table, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..db import Database
from ..observability import correlation_id_var
from ..tasks import cancel_and_wait
from .catalogue import Payload, spec_for
from .envelope import EventEnvelope
from .transport import Transport

log = logging.getLogger("itp.outbox")


def notify_channel(service: str) -> str:
    return f"itp_outbox_{service}"


class UnitOfWork:
    def __init__(self, db: Database, outbox: Table, producer: str, *, correlation_id: str | None = None,
                 causation_id: str | None = None):
        self.db = db
        self.outbox = outbox
        self.producer = producer
        self.correlation_id = correlation_id or correlation_id_var.get()
        self.causation_id = causation_id
        self.session: AsyncSession = db.session()
        self.emitted: list[EventEnvelope] = []

    async def __aenter__(self) -> "UnitOfWork":
        await self.session.begin()
        return self

    async def __aexit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is not None or self.session.in_transaction():
                await self.session.rollback()
        finally:
            await self.session.close()

    async def emit(self, payload: Payload, *, subject_id: str, la_code: str | None) -> EventEnvelope:
        spec = spec_for(payload)
        envelope = EventEnvelope(type=spec.type, version=spec.version, producer=self.producer,
                                 subject_id=str(subject_id), la_code=la_code, correlation_id=self.correlation_id,
                                 causation_id=self.causation_id, payload=payload.model_dump(mode="json"))
        await self.session.execute(self.outbox.insert().values(
            event_id=str(envelope.id), event_type=envelope.type, topic=spec.topic, key=envelope.subject_id,
            envelope=envelope.model_dump_json(), created_at=datetime.now(timezone.utc)))
        if self.db.is_postgres and not self.emitted:
            await self.session.execute(text("SELECT pg_notify(:c, '')"), {"c": notify_channel(self.producer)})
        self.emitted.append(envelope)
        return envelope

    async def commit(self) -> None:
        await self.session.commit()
        if self.emitted:
            self.db.outbox_signal.set()


class OutboxRelay:
    """Publishes committed outbox rows in order. Safe to run in several replicas on Postgres
    (rows are claimed with FOR UPDATE SKIP LOCKED); publishing is at-least-once and consumers
    deduplicate by event id."""

    def __init__(self, db: Database, outbox: Table, transport: Transport, service: str, *,
                 poll_seconds: float = 1.0, batch: int = 200):
        self.db = db
        self.outbox = outbox
        self.transport = transport
        self.service = service
        self.poll_seconds = poll_seconds
        self.batch = batch
        self._task: asyncio.Task | None = None
        self._listener_conn = None

    async def publish_pending(self) -> int:
        stmt = select(self.outbox.c.seq, self.outbox.c.topic, self.outbox.c.key, self.outbox.c.envelope,
                      self.outbox.c.event_type).where(self.outbox.c.published_at.is_(None)) \
            .order_by(self.outbox.c.seq).limit(self.batch)
        if self.db.is_postgres:
            stmt = stmt.with_for_update(skip_locked=True)
        async with self.db.session() as session, session.begin():
            rows = (await session.execute(stmt)).all()
            for row in rows:
                await self.transport.publish(row.topic, row.key, row.envelope.encode(),
                                             {"event_type": row.event_type})
            if rows:
                await session.execute(update(self.outbox).where(self.outbox.c.seq.in_([r.seq for r in rows]))
                                      .values(published_at=datetime.now(timezone.utc)))
        return len(rows)

    async def run(self) -> None:
        await self._listen()
        while True:
            try:
                self.db.outbox_signal.clear()
                published = await self.publish_pending()
                if published:
                    continue
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay failed; will retry", extra={"relay": self.service})
                await asyncio.sleep(min(self.poll_seconds, 1.0))
                continue
            try:
                await asyncio.wait_for(self.db.outbox_signal.wait(), timeout=self.poll_seconds)
            except asyncio.TimeoutError:
                pass

    async def _listen(self) -> None:
        """On Postgres, LISTEN so that commits in other processes wake this relay too."""
        if not self.db.is_postgres or self._listener_conn is not None:
            return
        try:
            conn = await self.db.engine.connect()
            raw = await conn.get_raw_connection()
            await raw.driver_connection.add_listener(notify_channel(self.service),
                                                     lambda *_: self.db.outbox_signal.set())
            self._listener_conn = conn
        except Exception:
            log.warning("LISTEN unavailable; relay falls back to polling", exc_info=True)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name=f"relay:{self.service}")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        if self._listener_conn is not None:
            await self._listener_conn.close()
            self._listener_conn = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()


async def pending_count(session: AsyncSession, outbox: Table) -> int:
    from sqlalchemy import func
    return (await session.execute(select(func.count()).select_from(outbox)
                                  .where(outbox.c.published_at.is_(None)))).scalar_one()


__all__ = ["UnitOfWork", "OutboxRelay", "notify_channel", "pending_count", "MetaData"]
