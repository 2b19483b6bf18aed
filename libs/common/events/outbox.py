"""The transactional outbox: state and events commit together; a relay publishes them after commit.

A UnitOfWork owns one database transaction. Domain code asks it to emit() typed payloads; they are
written to the service's outbox table in the same transaction, and the commit wakes the relay
(in-process through an asyncio.Event; across processes on Postgres through NOTIFY, which Postgres
delivers only when the transaction commits).
"""
from __future__ import annotations

import asyncio
import logging
import zlib
from datetime import datetime, timezone

from sqlalchemy import MetaData, Table, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..db import Database, is_unavailable
from ..observability import correlation_id_var
from ..tasks import cancel_and_wait, within
from .catalogue import Payload, spec_for
from .envelope import EventEnvelope
from .transport import PublishIncomplete, Transport

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
        return (await self.emit_many([(payload, subject_id, la_code)]))[0]

    async def emit_many(self, events: list[tuple[Payload, str, str | None]]) -> list[EventEnvelope]:
        """Several events (payload, subject id, council) in one statement, in the order given."""
        if not events:
            return []
        now = datetime.now(timezone.utc)
        envelopes, rows = [], []
        for payload, subject_id, la_code in events:
            spec = spec_for(payload)
            envelope = EventEnvelope(type=spec.type, version=spec.version, producer=self.producer,
                                     subject_id=str(subject_id), la_code=la_code, correlation_id=self.correlation_id,
                                     causation_id=self.causation_id, payload=payload.model_dump(mode="json"))
            envelopes.append(envelope)
            rows.append(dict(event_id=str(envelope.id), event_type=envelope.type, topic=spec.topic,
                             key=envelope.subject_id, envelope=envelope.model_dump_json(), created_at=now))
        # the table's own INSERT with the rows as parameters (one row: a single execute; several: executemany), not
        # .values(), which builds a new statement and cache key on every event
        await self.session.execute(self.outbox.insert(), rows[0] if len(rows) == 1 else rows)
        if self.db.is_postgres and not self.emitted:
            await self.session.execute(text("SELECT pg_notify(:c, '')"), {"c": notify_channel(self.producer)})
        self.emitted.extend(envelopes)
        return envelopes

    async def commit(self) -> None:
        await self.session.commit()
        if self.emitted:
            self.db.outbox_signal.set()


RELAY_LOCK_CLASS = 0x4974  # the first key of the relay's advisory lock; the second is the service's


def relay_lock_keys(service: str) -> tuple[int, int]:
    """The two int4 keys of a service's relay lease (pg_try_advisory_lock(int, int): a key space apart from
    the bigint keys of the idempotency locks)."""
    return RELAY_LOCK_CLASS, zlib.crc32(f"itp-outbox-relay:{service}".encode()) - 2 ** 31


class OutboxRelay:
    """Publishes committed outbox rows in order, at least once; consumers deduplicate by event id.

    A batch of rows (oldest first) is handed to the transport's publish_many at once; after the broker
    acknowledged them, the batch's rows are marked published in one statement. A relay that dies or loses its
    database connection between the acks and that statement publishes the batch again (consumers deduplicate
    by event id); when only part of a batch was acknowledged, the acknowledged prefix is marked and the rest
    is tried again, in order. A transport without publish_many is given one message at a time, and each row
    is marked right after its ack (at most the message in flight is published again).

    On Postgres the relay keeps one dedicated connection that LISTENs for commits in other processes and
    holds the relay's lease (a session advisory lock): among replicas of a service (the relay inside each
    `itp serve`, an `itp relay` process) one publishes, in order, and the others stand by; Postgres frees the
    lease when its holder's connection ends, and a standby takes over at its next poll. When that connection
    dies the relay stops publishing at once, logs a warning and opens a new one (LISTEN and lease again).
    """

    def __init__(self, db: Database, outbox: Table, transport: Transport, service: str, *,
                 poll_seconds: float = 1.0, batch: int = 200):
        self.db = db
        self.outbox = outbox
        self.transport = transport
        self.service = service
        self.poll_seconds = poll_seconds
        self.batch = batch
        self._task: asyncio.Task | None = None
        self._listener_conn = None  # the SQLAlchemy AsyncConnection that LISTENs and holds the lease
        self._listener_lost = False
        self._lease = False
        self.relistens = 0  # how many times a lost LISTEN connection was re-established
        self.published = 0  # messages this relay has published

    @property
    def listening(self) -> bool:
        return self._listener_conn is not None and not self._listener_lost

    @property
    def holds_lease(self) -> bool:
        return not self.db.is_postgres or (self.listening and self._lease)

    async def publish_pending(self) -> int:
        if self.db.is_postgres and not await self._ensure_listener():
            return 0
        stmt = select(self.outbox.c.seq, self.outbox.c.topic, self.outbox.c.key, self.outbox.c.envelope,
                      self.outbox.c.event_type).where(self.outbox.c.published_at.is_(None)) \
            .order_by(self.outbox.c.seq).limit(self.batch)
        async with self.db.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            rows = (await conn.execute(stmt)).all()
            if not rows:
                return 0
            if getattr(self.transport, "publish_many", None) is None:
                return await self._publish_one_by_one(conn, rows)
            if not self.holds_lease:
                return 0  # the lease went with the LISTEN connection: another replica may be publishing now
            try:
                acked = await self.transport.publish_many(
                    [(row.topic, row.key, row.envelope.encode(), {"event_type": row.event_type}) for row in rows])
            except PublishIncomplete as incomplete:
                # what was acknowledged is marked; the rest (and anything after it) is published again, in order
                await self._mark(conn, [row.seq for row in rows[:incomplete.acked]])
                raise incomplete.cause
            await self._mark(conn, [row.seq for row in rows[:acked]])
            return acked

    async def _mark(self, conn, seqs: list[int]) -> None:
        if seqs:
            self.published += len(seqs)
            await conn.execute(update(self.outbox).where(self.outbox.c.seq.in_(seqs))
                               .values(published_at=datetime.now(timezone.utc)))

    async def _publish_one_by_one(self, conn, rows) -> int:
        done = 0
        for row in rows:
            if not self.holds_lease:
                break  # the lease went with the LISTEN connection: another replica may be publishing now
            await self.transport.publish(row.topic, row.key, row.envelope.encode(), {"event_type": row.event_type})
            # its own statement (autocommit), at once: a connection lost after this point costs nothing,
            # one lost before it costs this one message again
            await self._mark(conn, [row.seq])
            done += 1
        return done

    async def run(self) -> None:
        while True:
            try:
                self.db.outbox_signal.clear()
                published = await self.publish_pending()
                if published:
                    continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if is_unavailable(exc):
                    log.warning("outbox relay lost its database; will retry",
                                extra={"relay": self.service, "exc_type": type(exc).__name__})
                else:
                    log.exception("outbox relay failed; will retry", extra={"relay": self.service})
                await asyncio.sleep(min(self.poll_seconds, 1.0))
                continue
            # without its LISTEN connection (or the lease) the relay tries again within a second
            wait = self.poll_seconds if self.holds_lease else min(self.poll_seconds, 1.0)
            try:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a stop's cancel that arrives as
                # the signal is set (a commit during shutdown), and the relay ran on until its 10 s stop limit
                async with asyncio.timeout(wait):
                    await self.db.outbox_signal.wait()
            except TimeoutError:
                pass

    async def _ensure_listener(self) -> bool:
        """On Postgres: make sure the LISTEN connection is open (re-opening it, with a warning, when it died)
        and try for the lease if this relay does not hold it. Answers whether this relay may publish."""
        if self._listener_conn is not None and self._listener_lost:
            log.warning("outbox relay's LISTEN connection was lost; re-establishing it",
                        extra={"relay": self.service})
            await self._close_listener()
            self.relistens += 1
        if self._listener_conn is None:
            try:
                await self._open_listener()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                await self._close_listener()
                log.warning("outbox relay cannot LISTEN; will retry", extra={"relay": self.service,
                                                                             "exc_type": type(exc).__name__})
                return False
        if not self._lease:
            try:
                raw = await self._listener_conn.get_raw_connection()
                self._lease = bool(await raw.driver_connection.fetchval(
                    "SELECT pg_try_advisory_lock($1, $2)", *relay_lock_keys(self.service)))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the connection died under us: the next round opens a new one
                self._listener_lost = True
                log.warning("outbox relay cannot take its lease; will retry",
                            extra={"relay": self.service, "exc_type": type(exc).__name__})
                return False
        return self.holds_lease

    async def _open_listener(self) -> None:
        self._listener_lost = False
        self._lease = False
        conn = await self.db.engine.connect()
        self._listener_conn = conn
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection

        def lost(*_):
            self._listener_lost = True
            self.db.outbox_signal.set()  # wake the loop: it re-listens now, not at the next poll

        driver.add_termination_listener(lost)
        await driver.add_listener(notify_channel(self.service), lambda *_: self.db.outbox_signal.set())
        # commits made while nobody listened woke nobody: look once now
        self.db.outbox_signal.set()

    async def _close_listener(self) -> None:
        conn, self._listener_conn = self._listener_conn, None
        self._lease = False
        if conn is None:
            return
        try:
            # closed, not returned to the pool: the lease and the LISTEN end with the connection
            await conn.invalidate()
            await conn.close()
        except Exception:  # noqa: BLE001 - it is already gone
            pass

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name=f"relay:{self.service}")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        await within(self._close_listener(), 5.0, f"{self.service} relay LISTEN connection")

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()


async def pending_count(session: AsyncSession, outbox: Table) -> int:
    from sqlalchemy import func
    return (await session.execute(select(func.count()).select_from(outbox)
                                  .where(outbox.c.published_at.is_(None)))).scalar_one()


__all__ = ["UnitOfWork", "OutboxRelay", "notify_channel", "pending_count", "relay_lock_keys", "MetaData"]
