"""The API gateway: the one door for councils' systems and the hub dashboard."""
from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.middleware import Middleware

from libs.common.auth import AUDIENCE, ForwardedTokens, KeyStore, TokenVerifier
from libs.common.contract import contract_document, declare_scopes
from libs.common.errors import NotFound, problem_response
from libs.common.runtime import ServiceRuntime
from libs.common.settings import Settings
from libs.common.tasks import within
from libs.common.web import create_service_app, mark_required_headers, warm_up

from . import audit, oauth, openapi
from .dashboard import router as dashboard_router
from .domain.principals import SCOPE_DESCRIPTIONS
from .keys import SharedKeys
from .protection import (
    BodySizeLimitMiddleware,
    RateLimitMiddleware,
    SecurityHeadersMiddleware,
    rate_limits,
)
from .proxy import ForwardingMiddleware, Upstreams
from .routing import UPSTREAMS, allowed_methods, method_index, service_for
from .tables import metadata
from .webhooks import api as webhooks_api
from .webhooks import fanout
from .webhooks.worker import DeliveryWorker

SERVICE = "gateway"
API_TITLE = "Integrated Therapeutic Pathway API"
API_DESCRIPTION = (
    "The API of the Integrated Therapeutic Pathway: referrals from councils, matching and admission decisions, "
    "placements and pathway plans, fees and invoices, outcomes. Errors are RFC 9457 problem documents.")

docs_router = APIRouter(include_in_schema=False)


@docs_router.get("/v1/openapi.json")
async def merged_openapi(request: Request) -> JSONResponse:
    app: FastAPI = request.app
    cached = getattr(app.state, "merged_openapi", None)
    if cached is None:
        # the gateway's own routes declare required headers as the services do (x-itp-required -> required)
        documents = {SERVICE: contract_document(declare_scopes(mark_required_headers(
            get_openapi(title=API_TITLE, version="1.0.0", routes=app.routes)), app.routes))}
        upstreams: Upstreams = app.state.upstreams
        for name, client in upstreams.clients.items():
            resp = await client.get("/openapi.json")
            resp.raise_for_status()
            documents[name] = resp.json()
        cached = contract_document(openapi.merge(documents, title=API_TITLE, version="1.0.0",
                                                 description=API_DESCRIPTION), scopes=SCOPE_DESCRIPTIONS)
        app.state.merged_openapi = cached
    return JSONResponse(cached)


@docs_router.get("/docs")
async def docs() -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="/v1/openapi.json", title=API_TITLE)


@docs_router.get("/")
async def index() -> dict:
    return {"name": API_TITLE, "docs": "/docs", "openapi": "/v1/openapi.json"}


proxy_router = APIRouter(include_in_schema=False)


PROXY_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@proxy_router.api_route("/v1/{path:path}", methods=PROXY_METHODS)
async def forward(path: str, request: Request):
    service = service_for(request.url.path)
    if service is None:
        if own_methods(request.app, request.url.path):  # a gateway route on this path, another method
            return await method_not_allowed(request, None)
        raise NotFound("route")
    return await request.app.state.upstreams.forward(service, request)


def own_methods(app: FastAPI, path: str) -> list[str]:
    """The methods of the gateway's own API routes on a path (from its own OpenAPI document)."""
    index = getattr(app.state, "own_method_index", None)
    if index is None:
        index = app.state.own_method_index = method_index(get_openapi(title=API_TITLE, version="1.0.0",
                                                                       routes=app.routes))
    return allowed_methods(index, path)


async def method_not_allowed(request: Request, exc) -> JSONResponse:
    """405 naming only the methods this path supports: the owning service's (from its OpenAPI document), or
    the gateway's own routes' (a router's default names every method of the catch-all proxy route)."""
    path = request.url.path
    service = service_for(path)
    allowed = await request.app.state.upstreams.allowed_methods(service, path) if service else None
    allowed = allowed or own_methods(request.app, path)
    if not allowed:
        return problem_response(404, "Not Found", "No such route.", instance=path)
    return problem_response(405, "Method Not Allowed", f"{request.method} is not allowed here; use {', '.join(allowed)}.",
                            instance=path, headers={"Allow": ", ".join(allowed)})


def create_app(settings: Settings | None = None, *, bus=None, upstream_apps: dict | None = None,
               manage_runtime: bool = True) -> FastAPI:
    """upstream_apps: the services' ASGI apps for embedded mode; otherwise their URLs come from settings
    (ITP_REFERRAL_URL and so on). In embedded mode the gateway also runs the services' lifespans."""
    settings = settings or Settings.for_service(SERVICE)
    webhook_wake = asyncio.Event()
    runtime = ServiceRuntime(settings, metadata, handlers=fanout.handlers(webhook_wake), bus=bus)
    worker = DeliveryWorker(runtime, webhook_wake)
    # the signing keys: the key file (one gateway process) or the database (shared by every replica, keys.py)
    signing = signing_keys(settings, runtime)
    if upstream_apps is not None and isinstance(signing, SharedKeys):
        for upstream in upstream_apps.values():  # in-process services verify with the keys the gateway holds
            upstream_runtime = getattr(upstream.state, "runtime", None)
            if upstream_runtime is not None:
                upstream_runtime.verifier.source = _held_jwks(signing)
    # what the services accept: an internal token the gateway mints from the caller's (docs/decisions/0005)
    tokens = ForwardedTokens(signing)
    limits = rate_limits(settings, runtime.db)
    if upstream_apps is not None:
        upstreams = Upstreams.in_process(upstream_apps, tokens)
    else:
        upstreams = Upstreams.over_http({s: settings.service_url(s) for s in UPSTREAMS if settings.service_url(s)},
                                        tokens)
    # the gateway's own routers come before the catch-all proxy
    app = create_service_app(runtime, [docs_router, oauth.router, audit.router, webhooks_api.router, proxy_router],
                             title=API_TITLE, manage_runtime=False, docs_url=None,
                             problems=webhooks_api.PROBLEMS)
    app.include_router(dashboard_router)  # the hub dashboard at /dashboard (not in the OpenAPI document)
    app.state.upstreams = upstreams
    app.state.forwarded_tokens = tokens
    app.state.signing_keys = signing
    app.state.rate_limits = limits
    app.state.audit_writer = audit.AuditWriter(runtime.db)
    app.add_exception_handler(405, method_not_allowed)
    app.state.webhook_wake = webhook_wake
    app.state.webhook_worker = worker
    install_door(app, settings)

    @contextlib.asynccontextmanager
    async def lifespan(app_: FastAPI):
        async with contextlib.AsyncExitStack() as stack:
            # the services start side by side (on Kafka each consumer's group join takes seconds)
            starts = [stack.enter_async_context(upstream.router.lifespan_context(upstream))
                      for upstream in (upstream_apps or {}).values()]
            if manage_runtime:
                async def own_runtime():
                    await runtime.start()
                    stack.push_async_callback(runtime.stop)
                starts.append(own_runtime())
            if isinstance(signing, SharedKeys):
                async def shared_keys():
                    await signing.start()
                    stack.push_async_callback(signing.stop)
                starts.append(shared_keys())
            failed = [r for r in await asyncio.gather(*starts, return_exceptions=True) if isinstance(r, BaseException)]
            if failed:
                raise failed[0]  # what did start is stopped by the exit stack
            if manage_runtime:
                if settings.webhook_worker_enabled:
                    worker.start()
                    stack.push_async_callback(lambda: within(worker.stop(), 10.0, "webhook worker"))
            stack.push_async_callback(lambda: within(upstreams.close(), 10.0, "upstream clients"))
            await limits.start()
            stack.push_async_callback(lambda: within(limits.stop(), 10.0, "rate-limit sync"))
            stack.push_async_callback(lambda: within(app.state.audit_writer.stop(), 10.0, "access log writer"))
            await warm_up(app)  # the gateway's own routes (the dashboard's included); the services warm their own
            yield

    app.router.lifespan_context = lifespan
    return app


def install_door(app: FastAPI, settings: Settings) -> None:
    """The door's middleware, just inside the request-id middleware (so every answer, a 429 too,
    carries a request id), outermost first: security headers, CORS for the dashboard, the body size
    limit, per-client rate limits, then the access log (which sees the services' X-ITP-Child-Records), then the
    forwarding of a service's path (proxy.ForwardingMiddleware; the gateway's own routes go on to the router)."""
    runtime = app.state.runtime
    door = [
        Middleware(SecurityHeadersMiddleware, hsts_max_age=settings.gateway_hsts_max_age),
        Middleware(CORSMiddleware, allow_origins=settings.gateway_cors_origins, allow_credentials=False,
                   allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                   allow_headers=["Authorization", "Content-Type", "If-Match", "Idempotency-Key", "X-Request-Id",
                                  "X-Correlation-Id"],
                   expose_headers=["ETag", "Location", "Retry-After", "X-Request-Id", "X-Correlation-Id"],
                   max_age=600),
        Middleware(BodySizeLimitMiddleware, max_bytes=settings.gateway_max_body_bytes),
        Middleware(RateLimitMiddleware, limits_of=lambda: app.state.rate_limits, verifier_of=lambda: runtime.verifier),
        Middleware(audit.AccessAuditMiddleware, runtime_of=lambda: runtime, writer_of=lambda: app.state.audit_writer),
        Middleware(ForwardingMiddleware, upstreams_of=lambda: app.state.upstreams),
    ]
    app.user_middleware[1:1] = door


def signing_keys(settings: Settings, runtime: ServiceRuntime) -> KeyStore | SharedKeys:
    """ITP_GATEWAY_STATE=database: the keys in the gateway's database, and the gateway's own verifier reads
    them there (a token minted by any replica verifies on every other); otherwise the key file."""
    if settings.gateway_state != "database":
        return KeyStore(settings.resolved_keys_file)
    shared = SharedKeys(runtime.db, token_ttl_seconds=settings.token_ttl_seconds,
                        refresh_seconds=settings.gateway_keys_refresh_seconds, key_file=settings.resolved_keys_file)
    runtime.verifier = TokenVerifier(shared.jwks_source, refresh_after=settings.gateway_keys_refresh_seconds,
                                     audience=AUDIENCE)
    return shared


def _held_jwks(shared: SharedKeys):
    async def source() -> dict:
        return shared.jwks()
    return source


def runtime_of(app: FastAPI) -> ServiceRuntime:
    return app.state.runtime
