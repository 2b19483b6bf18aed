"""A service's moving parts in one place: its database, its transport, its outbox relay and its consumer."""
from __future__ import annotations

import logging

from sqlalchemy import MetaData

from .auth import KeyStore, TokenVerifier
from .db import Database
from .events.catalogue import TOPICS, dead_letter_topic
from .events.consumer import EventConsumer, Handler
from .events.kafka import KafkaTransport
from .events.outbox import OutboxRelay, UnitOfWork
from .events.tables import messaging_tables
from .events.transport import InProcessBus, Transport
from .scheduler import PeriodicJobs
from .settings import SERVICES, Settings
from .tasks import within

log = logging.getLogger("itp.runtime")

_default_bus: InProcessBus | None = None


def default_bus() -> InProcessBus:
    global _default_bus
    if _default_bus is None:
        _default_bus = InProcessBus()
    return _default_bus


def make_transport(settings: Settings, bus: InProcessBus | None = None) -> Transport:
    if settings.transport == "kafka":
        return KafkaTransport(settings.kafka_bootstrap_servers, client_id=f"itp-{settings.service}",
                              enable_idempotence=settings.kafka_enable_idempotence,
                              partitions=settings.kafka_topic_partitions, topic_prefix=settings.kafka_topic_prefix,
                              fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
                              idle_fetch_max_wait_ms=settings.kafka_idle_fetch_max_wait_ms,
                              idle_after_ms=settings.kafka_idle_after_ms,
                              commit_interval_ms=settings.kafka_commit_interval_ms,
                              session_timeout_ms=settings.kafka_session_timeout_ms)
    return bus or default_bus()


class ServiceRuntime:
    def __init__(self, settings: Settings, metadata: MetaData, handlers: dict[str, Handler] | None = None, *,
                 bus: InProcessBus | None = None, transport: Transport | None = None):
        self.settings = settings
        self.service = settings.service
        self.metadata = metadata
        self.tables = tuple(metadata.tables[n] for n in ("outbox", "inbox", "dead_letters"))
        self.db = Database(settings)
        self.verifier = TokenVerifier.from_settings(settings)
        self.transport = transport or make_transport(settings, bus)
        self.relay = OutboxRelay(self.db, self.tables[0], self.transport, self.service,
                                 poll_seconds=settings.outbox_poll_seconds, batch=settings.outbox_batch)
        self.consumer = EventConsumer(self.service, self.db, self.tables, self.transport, handlers or {},
                                      retry_attempts=settings.consumer_retry_attempts,
                                      retry_backoff=settings.consumer_retry_backoff_seconds,
                                      max_batch=settings.consumer_max_batch)
        self.jobs = PeriodicJobs(self.service, settings.scheduler_interval_seconds)

    def uow(self, **kwargs) -> UnitOfWork:
        return UnitOfWork(self.db, self.tables[0], self.service, **kwargs)

    async def start(self) -> None:
        if self.service == "gateway" and not self.settings.jwks_url and self.settings.gateway_state == "local":
            KeyStore(self.settings.resolved_keys_file).ensure()
        await self.transport.start()
        await self.transport.ensure_topics(list(TOPICS) + [dead_letter_topic(s) for s in SERVICES])
        if self.settings.consumers_enabled:
            await self.consumer.start()
        if self.settings.relay_enabled:
            self.relay.start()
        if self.settings.scheduler_enabled:
            self.jobs.start()

    async def stop(self, step_seconds: float = 10.0) -> None:
        """Each part stops within `step_seconds` or is left behind with a warning: a stop never hangs."""
        await within(self.jobs.stop(), step_seconds, f"{self.service} periodic jobs")
        await within(self.relay.stop(), step_seconds, f"{self.service} outbox relay")
        await within(self.consumer.stop(), step_seconds, f"{self.service} consumer")
        if isinstance(self.transport, KafkaTransport):
            await within(self.transport.stop(), step_seconds, f"{self.service} producer")
        await within(self.db.dispose(), step_seconds, f"{self.service} database pool")

    async def ready(self) -> dict[str, str]:
        checks = {}
        for name, probe in (("database", self.db.ping), ("broker", self.transport.ping)):
            try:
                await probe()
                checks[name] = "ok"
            except Exception as exc:  # readiness reports, it does not raise
                checks[name] = f"unavailable: {type(exc).__name__}"
        return checks


def build_metadata() -> MetaData:
    """A service's metadata, starting with the messaging tables every service has."""
    metadata = MetaData()
    messaging_tables(metadata)
    return metadata
