"""The matching service. Homes and beds, the impact risk assessment, admission decisions."""
from fastapi import FastAPI

from libs.common.web import service_app

from .api import PROBLEMS, ROUTERS
from .handlers import HANDLERS
from .repository import HomesSnapshot
from .scheduled import lapse_reservations, purge_old_idempotency_keys
from .tables import metadata

SERVICE = "matching"
DESCRIPTION = "Homes and beds, the impact risk assessment, admission decisions."


def create_app(settings=None, *, bus=None, manage_runtime: bool = True) -> FastAPI:
    app = service_app(SERVICE, metadata, ROUTERS, HANDLERS, description=DESCRIPTION, settings=settings, bus=bus,
                      manage_runtime=manage_runtime, problems=PROBLEMS)
    app.state.homes_snapshot = HomesSnapshot()  # this replica's in-memory homes, rebuilt when homes_version moves
    runtime = app.state.runtime
    runtime.jobs.add("lapse_reservations", lambda: lapse_reservations(runtime))
    runtime.jobs.add("purge_idempotency_keys", lambda: purge_old_idempotency_keys(runtime))
    return app
