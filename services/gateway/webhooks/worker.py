"""The delivery worker: posts due deliveries, signed, and keeps the log.

Safe with several gateway replicas: due deliveries are claimed in a short transaction (FOR UPDATE
SKIP LOCKED on Postgres) that pushes their next_attempt_at one lease ahead, so a claimed delivery is
not claimed again while it is in flight, and is picked up again if its worker dies mid-attempt."""
from __future__ import annotations

import asyncio
import logging
import time
import uuid
from datetime import datetime, timedelta, timezone

import httpx
from sqlalchemy import and_, select, update

from libs.common.events.catalogue import WebhookEndpointDisabled
from libs.common.runtime import ServiceRuntime
from libs.common.tasks import cancel_and_wait

from ..domain.webhooks import FailurePolicy, after_attempt, signed_headers, succeeded
from ..tables import webhook_attempts, webhook_deliveries, webhook_endpoints

log = logging.getLogger("itp.gateway.webhooks")
DUE_STATES = ("pending", "failed", "redeliver")  # redeliver: asked for by hand


class DeliveryWorker:
    def __init__(self, runtime: ServiceRuntime, wake: asyncio.Event, *, batch: int = 20, concurrency: int = 10):
        self.runtime = runtime
        self.db = runtime.db
        self.settings = runtime.settings
        self.wake = wake
        self.batch = batch
        self.concurrency = concurrency
        self.lease = timedelta(seconds=self.settings.webhook_timeout_seconds + 30)
        self.policy = FailurePolicy(self.settings.webhook_disable_after_failures,
                                    timedelta(days=self.settings.webhook_disable_after_days))
        self._task: asyncio.Task | None = None
        self._client: httpx.AsyncClient | None = None

    def start(self) -> None:
        if self._task is None:
            self._client = httpx.AsyncClient(timeout=self.settings.webhook_timeout_seconds, follow_redirects=False)
            self._task = asyncio.create_task(self.run(), name="webhooks:delivery")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

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
            try:
                await asyncio.wait_for(self.wake.wait(), timeout=self._sleep_for())
            except asyncio.TimeoutError:
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
        d, e = webhook_deliveries, webhook_endpoints
        stmt = (select(d.c.id, d.c.body, d.c.attempts, d.c.state, d.c.endpoint_id, e.c.url, e.c.secret,
                       e.c.previous_secret, e.c.previous_secret_until)
                .join(e, e.c.id == d.c.endpoint_id)
                .where(d.c.state.in_(DUE_STATES), d.c.next_attempt_at <= now, e.c.active.is_(True))
                .order_by(d.c.next_attempt_at).limit(self.batch))
        if self.db.is_postgres:
            stmt = stmt.with_for_update(skip_locked=True, of=d)
        async with self.db.session() as session, session.begin():
            rows = [dict(r) for r in (await session.execute(stmt)).mappings().all()]
            if rows:
                await session.execute(update(d).where(d.c.id.in_([r["id"] for r in rows]))
                                      .values(next_attempt_at=now + self.lease, updated_at=now))
        return rows

    async def attempt(self, row: dict) -> int | None:
        """One signed POST; the result goes in the delivery log. Returns the receiver's status code."""
        timestamp = int(time.time())
        grace = row["previous_secret"] and row["previous_secret_until"] and \
            row["previous_secret_until"] > datetime.now(timezone.utc)
        headers = signed_headers(row["secret"], row["id"], timestamp, row["body"],
                                 *([row["previous_secret"]] if grace else []))
        headers["user-agent"] = "ITP-Webhooks/1"
        status, error = None, None
        started = time.perf_counter()
        try:
            response = await self._client.post(row["url"], content=row["body"].encode(), headers=headers)
            status = response.status_code
            if not succeeded(status):
                error = f"HTTP {status}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {str(exc)[:300]}"
        duration_ms = int((time.perf_counter() - started) * 1000)
        await self.record(row, status, error, duration_ms, manual=row["state"] == "redeliver")
        return status

    async def record(self, row: dict, status: int | None, error: str | None, duration_ms: int, manual: bool) -> None:
        now = datetime.now(timezone.utc)
        d, e = webhook_deliveries, webhook_endpoints
        ok = succeeded(status)
        outcome = after_attempt(self.settings.webhook_retry_schedule, row["attempts"], status)
        async with self.runtime.uow() as uow:
            session = uow.session
            await session.execute(webhook_attempts.insert().values(
                delivery_id=row["id"], attempted_at=now, status_code=status, error=error, duration_ms=duration_ms,
                manual=manual))
            next_at = None if outcome.retry_in is None else now + timedelta(seconds=outcome.retry_in)
            await session.execute(update(d).where(d.c.id == row["id"]).values(
                attempts=d.c.attempts + 1, last_status_code=status, updated_at=now, state=outcome.state,
                next_attempt_at=next_at))
            if ok:
                await session.execute(update(e).where(e.c.id == row["endpoint_id"]).values(
                    consecutive_failures=0, failing_since=None))
            else:
                await self._count_failure(uow, row["endpoint_id"], now)
            await uow.commit()

    async def _count_failure(self, uow, endpoint_id: str, now: datetime) -> None:
        """One more failure in a row; past the policy the endpoint is disabled, with a notice: the
        webhook_endpoint.disabled event and a log line (ids and counts only, never child data)."""
        e = webhook_endpoints
        session = uow.session
        await session.execute(update(e).where(e.c.id == endpoint_id).values(
            consecutive_failures=e.c.consecutive_failures + 1, updated_at=now))
        await session.execute(update(e).where(and_(e.c.id == endpoint_id, e.c.failing_since.is_(None)))
                              .values(failing_since=now))
        endpoint = (await session.execute(select(e.c.active, e.c.la_code, e.c.consecutive_failures,
                                                 e.c.failing_since).where(e.c.id == endpoint_id))).first()
        if not (endpoint.active and self.policy.should_disable(endpoint.consecutive_failures,
                                                               endpoint.failing_since, now)):
            return
        reason = (f"Disabled after {endpoint.consecutive_failures} consecutive failed deliveries "
                  f"(failing since {endpoint.failing_since.isoformat()}); fix the receiver and enable it again.")
        await session.execute(update(e).where(e.c.id == endpoint_id).values(
            active=False, disabled_reason=reason, disabled_at=now, version=e.c.version + 1, updated_at=now))
        await uow.emit(WebhookEndpointDisabled(
            endpoint_id=uuid.UUID(endpoint_id), consecutive_failures=endpoint.consecutive_failures,
            failing_since=endpoint.failing_since, disabled_at=now, reason=reason),
            subject_id=endpoint_id, la_code=endpoint.la_code)
        log.warning("webhook endpoint disabled", extra={"endpoint_id": endpoint_id, "la_code": endpoint.la_code,
                                                        "consecutive_failures": endpoint.consecutive_failures})
