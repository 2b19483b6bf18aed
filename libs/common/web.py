"""Every service's FastAPI app is made here: problem+json errors, request ids, JSON logs, health."""
from __future__ import annotations

import asyncio
import contextlib
import inspect
from typing import Iterable, Mapping

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from .audit import ChildRecordsMiddleware
from .contract import contract_document, declare_scopes, door_checks, operation_id
from .errors import PROBLEM_RESPONSES, ProblemMapper, install_problem_handlers
from .observability import RequestContextMiddleware, configure_logging
from .runtime import ServiceRuntime


def health_router(runtime_of) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/health/live", summary="The process is up")
    async def live() -> dict:
        return {"status": "ok"}

    @router.get("/health/ready", summary="The service can reach its database and its broker")
    async def ready(request: Request):
        """200 when every dependency answered; otherwise 503 (with Retry-After) naming what is unavailable,
        for example {"database": "unavailable: ConnectionRefusedError"} (the error's type, never its text)."""
        checks = await runtime_of(request).ready()
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse({"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503,
                            headers=None if ok else {"Retry-After": "5"})

    return router


def mark_required_headers(document: dict) -> dict:
    """Headers a route needs but checks itself (If-Match: 428, Idempotency-Key: 400) are declared optional to
    FastAPI so that the route can answer its own problem; the contract still says they are required."""
    for path in document.get("paths", {}).values():
        for operation in path.values():
            for param in operation.get("parameters", []) if isinstance(operation, dict) else []:
                schema = param.get("schema", {})
                if schema.pop("x-itp-required", False):
                    param["required"] = True
                    if "anyOf" in schema:  # str | None -> str
                        kinds = [s for s in schema.pop("anyOf") if s.get("type") != "null"]
                        schema.update(kinds[0] if kinds else {})
    return document


def install_openapi(app: FastAPI) -> None:
    original = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = contract_document(declare_scopes(mark_required_headers(original()), app.routes))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


# FastAPI's built-in OpenTelemetry hooks, off: nothing here configures OpenTelemetry, and asking on every
# request whether a provider has been set since measured about 5% of the gateway's time per request
_NO_TELEMETRY = ({"telemetry": {"tracing": False, "metrics": False, "logs": False}}
                 if "telemetry" in inspect.signature(FastAPI.__init__).parameters else {})


def warm_routes(app: FastAPI) -> int:
    """Build every route's request handling now. FastAPI (0.16x) builds the routes of an included router
    (dependants, body and response fields with their pydantic validators and serializers) on the first request
    that reaches that router, 25-40 ms per router on this machine, paid by whichever request comes first (the
    dashboard's first page load met three of them). Returns how many routes were built; a FastAPI that builds
    them at include_router time has nothing to do here."""
    built = 0
    for route in app.router.routes:
        contexts = getattr(route, "effective_route_contexts", None)  # an included router, built lazily
        if callable(contexts):
            built += sum(1 for _ in contexts())
    return built


async def warm_pool(runtime: ServiceRuntime, connections: int = 4) -> None:
    """Open a few pooled database connections now (on Postgres each new asyncpg connection also loads its
    type information), so the first concurrent requests find them open. A database that is down is not an
    error here: /health/ready reports it, and the pool connects later."""
    async def one() -> None:
        await runtime.db.ping()
    size = min(connections, runtime.settings.db_pool_size) if runtime.db.is_postgres else 2
    with contextlib.suppress(Exception):
        await asyncio.gather(*(one() for _ in range(size)))


async def warm_up(app: FastAPI) -> None:
    """One-time work done at start-up, before the lifespan yields (so before /health/ready can answer):
    the routes (warm_routes), the connection pool (warm_pool), then what the service registered in
    app.state.warm_ups (callables, sync or async, for example a calendar's bank holidays), instead of in
    the first request that needs them. Off with ITP_WARM_UP=false."""
    if not app.state.runtime.settings.warm_up:
        return
    warm_routes(app)
    await warm_pool(app.state.runtime)
    for warm in getattr(app.state, "warm_ups", ()):
        done = warm()
        if inspect.isawaitable(done):
            await done


def create_service_app(runtime: ServiceRuntime, routers: Iterable[APIRouter], *, title: str, description: str = "",
                       manage_runtime: bool = True, docs_url: str | None = "/docs",
                       problems: Mapping[type[Exception], ProblemMapper] | None = None) -> FastAPI:
    configure_logging(runtime.settings.log_level, runtime.settings.log_json)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        if manage_runtime:
            await runtime.start()
        await warm_up(app)
        try:
            yield
        finally:
            if manage_runtime:
                await runtime.stop()

    app = FastAPI(title=title, description=description, version="1.0.0", lifespan=lifespan,
                  responses=PROBLEM_RESPONSES, docs_url=docs_url, dependencies=[Depends(door_checks)],
                  generate_unique_id_function=operation_id, **_NO_TELEMETRY)
    app.state.runtime = runtime
    install_problem_handlers(app, problems)
    install_openapi(app)
    app.add_middleware(ChildRecordsMiddleware)
    app.add_middleware(RequestContextMiddleware, service=runtime.service)
    app.include_router(health_router(lambda request: request.app.state.runtime))
    for router in routers:
        app.include_router(router)
    return app


def runtime_of(request: Request) -> ServiceRuntime:
    return request.app.state.runtime


def service_app(service: str, metadata, routers: Iterable[APIRouter], handlers: dict | None = None, *,
                description: str = "", settings=None, bus=None, manage_runtime: bool = True,
                problems: Mapping[type[Exception], ProblemMapper] | None = None) -> FastAPI:
    """The one way a service builds its app: its runtime (database, transport, relay, consumer) and routes."""
    from .settings import Settings

    runtime = ServiceRuntime(settings or Settings.for_service(service), metadata, handlers=dict(handlers or {}), bus=bus)
    return create_service_app(runtime, routers, title=f"ITP {service} service", description=description,
                              manage_runtime=manage_runtime, problems=problems)
