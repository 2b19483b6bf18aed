"""The door's own protections: security headers on every response, a body size limit and
per-client rate limits. Pure ASGI middleware, so streamed bodies are counted as they arrive."""
from __future__ import annotations

import time

from libs.common.errors import PROBLEM_BASE, ProblemError, problem_response
from libs.common.settings import Settings

from .domain.ratelimit import RateLimiter, retry_after_header
from .principal import client_key, principal_of

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


class RateLimitMiddleware:
    """A token bucket per client_id (per IP without a valid token). The buckets live in this gateway
    process: with N replicas behind a balancer a client gets up to N times the rate."""

    def __init__(self, app, settings: Settings, verifier_of, clock=time.monotonic):
        self.app = app
        self.limiter = RateLimiter(settings.gateway_rate_limit_per_second, settings.gateway_rate_limit_burst)
        self.verifier_of = verifier_of
        self.clock = clock

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("path", "").startswith("/health") or scope.get("method") == "OPTIONS":
            return await self.app(scope, receive, send)
        principal = await principal_of(scope, self.verifier_of())
        wait = self.limiter.take(client_key(scope, principal), self.clock())
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
