"""Forwarding a request to the service that owns its path: over HTTP in distributed mode,
as an in-process ASGI call in embedded mode. The request id and correlation id go along.

Over HTTP the hop uses one aiohttp session per gateway process (a keep-alive pool of POOL_SIZE connections,
idle ones kept KEEPALIVE_SECONDS, less than the services' own keep-alive so the gateway never reuses one a
service is closing): measured on this machine its client side costs about 0.25 ms of CPU a request against
1.8 ms for httpx's pool (bench/load.py). httpx stays for the in-process (ASGI) calls and the rare ones
(OpenAPI documents). aiohttp retries an idempotent request once when a kept-alive connection turns out closed.

The caller's token never reaches a service: the gateway verifies it (principal.py) and forwards an
internal token with the same claims in its place (libs.common.auth.ForwardedTokens; the services accept
nothing else), so a service's port answers nobody who has not passed the door and its access log."""
from __future__ import annotations

import asyncio
from urllib.parse import quote

import aiohttp
import httpx
from fastapi import Request, Response
from starlette.requests import ClientDisconnect
from yarl import URL

from libs.common.auth import ForwardedTokens, unauthorized
from libs.common.errors import PROBLEM_BASE, ProblemError
from libs.common.observability import correlation_id_var, request_id_var

from .principal import bearer_token, principal_of, refusal
from .routing import MethodIndex, allowed_methods, method_index, service_for

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
              "transfer-encoding", "upgrade", "host", "content-length"}
# set by whoever answers the client (the gateway's server and middleware), so never copied from a service:
# two Date or Server headers in one answer are a protocol error, and the body is already decoded
ANSWER_OWN = {"date", "server", "x-request-id", "x-correlation-id", "content-encoding"}
RETRY_AFTER_SECONDS = 2
POOL_SIZE = 256  # connections to all services from one gateway process (more than its concurrent requests)
KEEPALIVE_SECONDS = 30.0  # below the services' keep-alive (itp serve: 75 s)
TIMEOUT_SECONDS = 30.0
_DROP = HOP_BY_HOP | ANSWER_OWN


def unavailable(service: str) -> ProblemError:
    return ProblemError(503, "Service Unavailable", f"The {service} service cannot be reached; retry shortly.",
                        type_=PROBLEM_BASE + "service-unavailable", headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


class Upstreams:
    def __init__(self, clients: dict[str, httpx.AsyncClient], tokens: ForwardedTokens | None = None,
                 urls: dict[str, str] | None = None):
        self.clients = clients
        self.tokens = tokens
        self.urls = {name: url.rstrip("/") for name, url in (urls or {}).items()}
        self._session: aiohttp.ClientSession | None = None  # made in the running loop, on the first forward
        self._methods: dict[str, MethodIndex] = {}

    @classmethod
    def in_process(cls, apps: dict, tokens: ForwardedTokens | None = None) -> "Upstreams":
        return cls({name: httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{name}",
                                            timeout=30) for name, app in apps.items()}, tokens)

    @classmethod
    def over_http(cls, urls: dict[str, str], tokens: ForwardedTokens | None = None) -> "Upstreams":
        return cls({name: httpx.AsyncClient(base_url=url, timeout=30) for name, url in urls.items()}, tokens,
                   urls=urls)

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()
        if self._session is not None:
            await self._session.close()
            self._session = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=POOL_SIZE, keepalive_timeout=KEEPALIVE_SECONDS, use_dns_cache=True),
                timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS), auto_decompress=True, cookie_jar=aiohttp.DummyCookieJar())
        return self._session

    async def allowed_methods(self, service: str, path: str) -> list[str] | None:
        """The methods a service answers on a path, from its OpenAPI document (fetched once): every route whose
        template matches, not only the first (a router's own 405 names one route's methods). None when
        the service cannot say."""
        if service not in self._methods:
            client = self.clients.get(service)
            if client is None:
                return None
            try:
                resp = await client.get("/openapi.json")
                resp.raise_for_status()
                self._methods[service] = method_index(resp.json())
            except (httpx.HTTPError, ValueError):
                return None
        return allowed_methods(self._methods[service], path) or None

    async def forward(self, service: str, request: Request) -> Response:
        client = self.clients.get(service)
        if client is None:
            raise ProblemError(503, "Service Unavailable", f"The {service} service is not configured.",
                               type_=PROBLEM_BASE + "service-unavailable")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP and k.lower() != "authorization"}
        principal = await principal_of(request.scope, request.app.state.runtime.verifier)
        presented = bearer_token(request.scope)
        if presented is not None:
            if principal is None:
                raise unauthorized(refusal(request.scope) or "invalid token")
            if self.tokens is not None:
                headers["authorization"] = "Bearer " + self.tokens.for_caller(presented, principal,
                                                                              request_id=request_id_var.get())
        headers["x-request-id"] = request_id_var.get() or headers.get("x-request-id", "")
        headers["x-correlation-id"] = correlation_id_var.get() or headers.get("x-correlation-id", "")
        # forward the path exactly as it came (still percent-encoded): decoding it here would turn an
        # encoded "?" or "/" inside an id into a query string or another path
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        target = quote(raw_path, safe="/%:@!$&'()*+,;=-._~")
        query = request.scope.get("query_string", b"")
        if query:
            target += "?" + quote(query, safe="/%:@!$&'()*+,;=-._~?")
        body = await _body(request)
        if service in self.urls:
            status, content, raw_headers = await self._over_http(service, request.method, target, headers, body)
        else:
            status, content, raw_headers = await self._in_process(client, service, request.method, target, headers, body)
        if status == 405:
            allowed = await self.allowed_methods(service, request.url.path)
            if allowed:
                raw_headers = [(k, v) for k, v in raw_headers if k != b"allow"] + [(b"allow", ", ".join(allowed).encode())]
        response = Response(content=content, status_code=status)
        response.raw_headers = [h for h in response.raw_headers if h[0] == b"content-length"] + raw_headers
        return response

    async def _over_http(self, service: str, method: str, target: str, headers: dict, body: bytes):
        try:
            async with self.session().request(method, URL(self.urls[service] + target, encoded=True), headers=headers,
                                              data=body or None, allow_redirects=False) as upstream:
                content = await upstream.read()
                return upstream.status, content, _answer_headers(upstream.raw_headers)
        except (aiohttp.InvalidURL, ValueError):
            raise ProblemError(404, "Not Found", "No resource has that address.") from None
        except (aiohttp.ClientError, asyncio.TimeoutError):
            # cannot connect, connection reset, no answer in time: the service is unavailable for now
            raise unavailable(service) from None

    async def _in_process(self, client: httpx.AsyncClient, service: str, method: str, target: str, headers: dict,
                          body: bytes):
        try:
            upstream = await client.request(method, target, headers=headers, content=body)
        except httpx.InvalidURL:
            raise ProblemError(404, "Not Found", "No resource has that address.") from None
        except httpx.HTTPError:
            raise unavailable(service) from None
        return upstream.status_code, upstream.content, _answer_headers(upstream.headers.raw)


async def _body(request: Request) -> bytes:
    """The request's body; a GET or DELETE that declares none is not waited for."""
    if request.method in ("GET", "DELETE") and "content-length" not in request.headers \
            and "transfer-encoding" not in request.headers:
        return b""
    return await request.body()


def _answer_headers(raw) -> list[tuple[bytes, bytes]]:
    """The service's answer headers the caller gets: every value kept (two Set-Cookie or Link headers stay
    two), minus hop-by-hop ones and those the gateway's own server sets."""
    out = []
    for name, value in raw:
        name = name.lower()
        if name.decode("latin-1") not in _DROP:
            out.append((name, value))
    return out


PROXY_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})


class ForwardingMiddleware:
    """The forwarding route without the router: a request for a service's path (routing.service_for) in one of
    the proxied methods goes straight to Upstreams.forward, inside the door's middleware (rate limit, access
    log, headers) but without matching it against every gateway route (the dashboard's, the docs', ...) nor
    FastAPI's endpoint machinery, which measured as a fifth of the gateway's time per forwarded request.
    Everything else (the gateway's own routes, 404s, 405s) goes on to the app."""

    def __init__(self, app, upstreams_of):
        self.app = app
        self.upstreams_of = upstreams_of

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] in PROXY_METHODS:
            service = service_for(scope["path"])
            if service is not None:
                from .protection import _problem
                try:
                    response = await self.upstreams_of().forward(service, Request(scope, receive))
                except ProblemError as exc:
                    return await _problem(scope, receive, send, exc)
                except ClientDisconnect:
                    return  # the caller went away before its body arrived: nobody to answer, nothing forwarded
                return await response(scope, receive, send)
        await self.app(scope, receive, send)
