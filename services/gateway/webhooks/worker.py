"""The delivery worker: posts due deliveries, signed, and keeps the log.

Safe with several gateway replicas: due deliveries are claimed in a short transaction (FOR UPDATE
SKIP LOCKED on Postgres) that pushes their next_attempt_at one lease ahead, so a claimed delivery is
not claimed again while it is in flight, and is picked up again if its worker dies mid-attempt."""
from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta, timezone

import httpx

from libs.common.runtime import ServiceRuntime
from libs.common.tasks import cancel_and_wait

from ..domain.webhooks import FailurePolicy, signed_headers
from . import repository, service
from .sender import PinnedSender, Resolver

log = logging.getLogger("itp.gateway.webhooks")
DUE_STATES = repository.DUE_STATES


class DeliveryWorker:
    """`resolver` and `transport`: injectable name resolution and HTTP transport (tests); by default the
    system resolver and a real connection, pinned to the checked address (see sender.py)."""

    def __init__(self, runtime: ServiceRuntime, wake: asyncio.Event, *, batch: int = 20, concurrency: int = 10,
                 resolver: Resolver | None = None, transport: httpx.AsyncBaseTransport | None = None):
        self.runtime = runtime
        self.db = runtime.db
        self.settings = runtime.settings
        self.wake = wake
        self.batch = batch
        self.concurrency = concurrency
        self.resolver = resolver
        self.transport = transport
        self.lease = timedelta(seconds=self.settings.webhook_timeout_seconds + 30)
        self.policy = FailurePolicy(self.settings.webhook_disable_after_failures,
                                    timedelta(days=self.settings.webhook_disable_after_days))
        self._task: asyncio.Task | None = None
        self._sender: PinnedSender | None = None

    @property
    def sender(self) -> PinnedSender:
        if self._sender is None:
            self._sender = PinnedSender(timeout=self.settings.webhook_timeout_seconds,
                                        allow_http_localhost=self.settings.webhook_allow_http_localhost,
                                        resolver=self.resolver, transport=self.transport)
        return self._sender

    def start(self) -> None:
        if self._task is None:
            self.sender  # noqa: B018 - built before the first round
            self._task = asyncio.create_task(self.run(), name="webhooks:delivery")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        if self._sender is not None:
            await self._sender.aclose()
            self._sender = None

    async def run(self) -> None:
        while True:
            try:
                self.wake.clear()
                if await self.deliver_due():
                    continue
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("webhook delivery round failed; will retry")
            try:  # asyncio.timeout, not wait_for: on Python 3.11 wait_for can drop a stop's cancel arriving with a wake-up
                async with asyncio.timeout(self._sleep_for()):
                    await self.wake.wait()
            except TimeoutError:
                pass

    def _sleep_for(self) -> float:
        # the shortest retry in the schedule must not wait a whole poll interval
        shortest = min(self.settings.webhook_retry_schedule or [self.settings.webhook_poll_seconds])
        return max(0.02, min(self.settings.webhook_poll_seconds, shortest / 2))

    async def deliver_due(self) -> int:
        claimed = await self.claim()
        if claimed:
            semaphore = asyncio.Semaphore(self.concurrency)

            async def one(row):
                async with semaphore:
                    await self.attempt(row)
            await asyncio.gather(*(one(r) for r in claimed))
        return len(claimed)

    async def claim(self) -> list[dict]:
        now = datetime.now(timezone.utc)
        async with self.db.session() as session, session.begin():
            rows = await repository.claim_due(session, now, now + self.lease, self.batch,
                                              skip_locked=self.db.is_postgres)
            # a child restricted since the delivery was made: withheld, not sent (decision 0006)
            return await service.withhold_restricted(session, rows, now)

    async def attempt(self, row: dict) -> int | None:
        """One signed POST to the checked address; the result (a status or an error code) goes in the
        delivery log. Returns the receiver's status code."""
        timestamp = int(time.time())
        grace = row["previous_secret"] and row["previous_secret_until"] and \
            row["previous_secret_until"] > datetime.now(timezone.utc)
        headers = signed_headers(row["secret"], row["id"], timestamp, row["body"],
                                 *([row["previous_secret"]] if grace else []))
        headers["user-agent"] = "ITP-Webhooks/1"
        started = time.perf_counter()
        outcome = await self.sender.post(row["url"], row["body"].encode(), headers,
                                         context={"delivery_id": row["id"], "endpoint_id": row["endpoint_id"]})
        duration_ms = int((time.perf_counter() - started) * 1000)
        await self.record(row, outcome.status_code, outcome.error, duration_ms)
        return outcome.status_code

    async def record(self, row: dict, status: int | None, error: str | None, duration_ms: int) -> None:
        async with self.runtime.uow() as uow:
            await service.record_attempt(uow, row, status_code=status, error=error, duration_ms=duration_ms,
                                         schedule=self.settings.webhook_retry_schedule, policy=self.policy,
                                         now=datetime.now(timezone.utc))
            await uow.commit()
