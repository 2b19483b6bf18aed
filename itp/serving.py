"""How `itp serve` runs a service under uvicorn: uvloop and httptools (the serving stack's fast event loop and
HTTP parser), keep-alive longer than the gateway's pool keeps an idle connection (services/gateway/proxy.py),
and for the gateway optionally several worker processes on one port (ITP_GATEWAY_WORKERS or --workers): uvicorn's
supervisor binds the socket once and its workers accept from it, restarting any that dies. Workers share
nothing in memory; the gateway's keys and rate limits then need ITP_GATEWAY_STATE=database."""
from __future__ import annotations

import contextlib
import gc
import logging
import os

from .system import app_factory, settings_for

SERVICE_ENV = "ITP_SERVE_SERVICE"
KEEP_ALIVE_SECONDS = 75  # longer than the gateway keeps an idle upstream connection (30 s)

log = logging.getLogger("itp.serve")


def app_from_environment():
    """The ASGI app of the service named in ITP_SERVE_SERVICE (each uvicorn worker process calls this)."""
    service = os.environ[SERVICE_ENV]
    return frozen_after_start_up(app_factory(service)(settings_for(service)))


def frozen_after_start_up(app):
    """Once the app has started (routes, pools, caches and every module loaded: tens of thousands of objects
    that live as long as the process), move them out of the garbage collector's reach (gc.freeze): its full
    collections, which otherwise walk that whole heap while a request waits, then walk only what requests
    made. `itp serve` and `itp run` only; tests keep Python's default."""
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app_):
        async with inner(app_) as state:
            gc.collect()
            gc.freeze()
            yield state
    app.router.lifespan_context = lifespan
    return app


def serve(service: str, host: str, port: int, workers: int | None = None) -> None:
    import uvicorn

    settings = settings_for(service)
    if workers is None:
        workers = settings.gateway_workers if service == "gateway" else 1
    options = dict(host=host, port=port, log_config=None, loop="uvloop", http="httptools",
                   timeout_keep_alive=KEEP_ALIVE_SECONDS, access_log=False)
    if workers > 1:
        if service == "gateway" and settings.gateway_state != "database":
            log.warning("several gateway workers with ITP_GATEWAY_STATE=local: each keeps its own rate-limit "
                        "buckets (the key file is shared on this machine)")
        os.environ[SERVICE_ENV] = service
        uvicorn.run("itp.serving:app_from_environment", factory=True, workers=workers, **options)
    else:
        uvicorn.run(frozen_after_start_up(app_factory(service)(settings)), **options)
