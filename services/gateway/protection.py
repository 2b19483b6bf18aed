"""The door's own protections: security headers on every response, a body size limit and
per-client rate limits. Pure ASGI middleware, so streamed bodies are counted as they arrive."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from libs.common.errors import PROBLEM_BASE, ProblemError, problem_response
from libs.common.settings import Settings

from .domain.ratelimit import RateLimiter, SharedBuckets, retry_after_header
from .principal import client_key, principal_of
from .repository import HeldConnection, forget_full_buckets, spend_from_buckets

log = logging.getLogger("itp.gateway.protection")

# Swagger UI is served from a CDN and runs an inline script; only /docs gets that allowance.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
DOCS_CSP = ("default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
            "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
            "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'")
# The hub dashboard (/dashboard): its own stylesheet and script, inline SVG charts, forms posting to itself.
DASHBOARD_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
                 "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


class SecurityHeadersMiddleware:
    def __init__(self, app, hsts_max_age: int = 63072000):
        self.app = app
        self.static = [
            (b"strict-transport-security", f"max-age={hsts_max_age}; includeSubDomains".encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        csp = DOCS_CSP if path == "/docs" else DASHBOARD_CSP if path.startswith("/dashboard") else API_CSP

        no_store = path.startswith(("/v1/", "/oauth/"))  # council data never sits in a shared cache
        replaced = {b"content-security-policy"} | ({b"cache-control"} if no_store else set())

        async def _send(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in replaced]
                headers += self.static + [(b"content-security-policy", csp.encode())]
                if no_store:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, _send)


class BodyTooLarge(ProblemError):
    def __init__(self, limit: int):
        super().__init__(413, "Content Too Large", f"The request body is larger than {limit} bytes.",
                         type_=PROBLEM_BASE + "content-too-large", limit_bytes=limit)


class BodySizeLimitMiddleware:
    """413 when Content-Length says too much, and again if the streamed body passes the limit
    (a chunked request carries no Content-Length)."""

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.max_bytes:
                    return await _problem(scope, receive, send, BodyTooLarge(self.max_bytes))
        received = 0
        started = False

        async def _receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def _send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, _receive, _send)
        except BodyTooLarge as exc:
            if started:
                raise
            await _problem(scope, receive, send, exc)


class LocalLimits:
    """Rate-limit buckets in this process's memory (ITP_GATEWAY_STATE=local: one gateway process)."""

    def __init__(self, rate: float, burst: int, clock=time.monotonic):
        self.limiter = RateLimiter(rate, burst)
        self.clock = clock

    async def take(self, key: str) -> float:
        return self.limiter.take(key, self.clock())

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass


class SharedLimits:
    """Rate-limit buckets shared by every gateway replica and worker through the database
    (ITP_GATEWAY_STATE=database): admitted here against a local copy, reported every `sync_seconds` in one
    statement for all buckets (domain.ratelimit.SharedBuckets says how exact that is). The first request of a
    client this replica has not seen waits for one read of its bucket. If the database cannot be reached the
    replica keeps admitting against its own copies (the door stays open; its limit is then per replica) and
    reports when it can."""

    FORGET_EVERY_SECONDS = 60.0

    def __init__(self, db, rate: float, burst: int, *, sync_seconds: float = 0.1, clock=time.time):
        self.db = db
        self.buckets = SharedBuckets(rate, burst)
        self.sync_seconds = sync_seconds
        self.clock = clock
        self._learning: dict[str, asyncio.Future] = {}
        self._one_at_a_time = asyncio.Lock()
        self._task: asyncio.Task | None = None
        self._forgot_at = 0.0
        self.connection = HeldConnection(db)
        self.syncs = 0  # statements sent (tests and the load bench read it)

    async def take(self, key: str) -> float:
        if not self.buckets.knows(key):
            await self._learn(key)
        return self.buckets.take(key, self.clock())

    async def _learn(self, key: str) -> None:
        pending = self._learning.get(key)
        if pending is None:
            pending = self._learning[key] = asyncio.ensure_future(self._report({key: 0}))
            pending.add_done_callback(lambda _: self._learning.pop(key, None))
        try:
            await asyncio.shield(pending)
        except Exception:  # noqa: BLE001 - logged by _report; admitted against a fresh local bucket
            pass

    async def _report(self, spent: dict[str, int]) -> None:
        now = self.clock()
        async def work(conn):
            levels = await spend_from_buckets(conn, spent, rate=self.buckets.rate, burst=self.buckets.burst, now=now)
            if now - self._forgot_at >= self.FORGET_EVERY_SECONDS:
                self._forgot_at = now
                await forget_full_buckets(conn, before=now - self.buckets.burst / self.buckets.rate - 60)
            return levels
        try:
            # one statement (atomic per bucket row) on a held connection: concurrent first-sight reads of
            # other clients wait for it rather than taking pool connections of their own
            async with self._one_at_a_time:
                levels = await self.connection.run(work)
        except Exception as exc:
            self.buckets.restore({k: n for k, n in spent.items() if n})
            log.warning("rate-limit buckets not synchronised", extra={"error": type(exc).__name__})
            raise
        self.syncs += 1
        self.buckets.learn(levels, now)

    async def sync(self) -> None:
        """Report what was admitted here since the last report (the background task does this every period)."""
        spent = self.buckets.report(self.clock())
        if spent:
            await self._report(spent)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="gateway rate-limit sync")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(Exception):
            await self.sync()
        await self.connection.close()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.sync_seconds)
            try:
                await self.sync()
            except Exception:  # noqa: BLE001 - logged; the report goes with the next one
                await asyncio.sleep(1.0)


def rate_limits(settings: Settings, db) -> LocalLimits | SharedLimits:
    if settings.gateway_state == "database":
        return SharedLimits(db, settings.gateway_rate_limit_per_second, settings.gateway_rate_limit_burst,
                            sync_seconds=settings.gateway_rate_limit_sync_seconds)
    return LocalLimits(settings.gateway_rate_limit_per_second, settings.gateway_rate_limit_burst)


class RateLimitMiddleware:
    """A token bucket per client_id (per IP without a valid token): in this process (LocalLimits) or shared by
    every replica through the database (SharedLimits)."""

    def __init__(self, app, limits_of, verifier_of):
        self.app = app
        self.limits_of = limits_of
        self.verifier_of = verifier_of

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("path", "").startswith("/health") or scope.get("method") == "OPTIONS":
            return await self.app(scope, receive, send)
        principal = await principal_of(scope, self.verifier_of())
        wait = await self.limits_of().take(client_key(scope, principal))
        if wait > 0:
            retry_after = retry_after_header(wait)
            return await _problem(scope, receive, send, ProblemError(
                429, "Too Many Requests", f"Rate limit exceeded; retry after {retry_after} s.",
                type_=PROBLEM_BASE + "rate-limited", headers={"Retry-After": retry_after}))
        await self.app(scope, receive, send)


async def _problem(scope, receive, send, exc: ProblemError) -> None:
    response = problem_response(exc.status, exc.title, exc.detail, type_=exc.type, instance=scope.get("path"),
                                headers=exc.headers, **exc.extra)
    await response(scope, receive, send)
