"""The matching service. Homes and beds, the impact risk assessment, admission decisions."""
from fastapi import FastAPI

from libs.common.web import service_app

from .api import router
from .handlers import HANDLERS
from .repository import lapse_reservations
from .tables import metadata

SERVICE = "matching"
DESCRIPTION = "Homes and beds, the impact risk assessment, admission decisions."


def create_app(settings=None, *, bus=None, manage_runtime: bool = True) -> FastAPI:
    app = service_app(SERVICE, metadata, [router], HANDLERS, description=DESCRIPTION, settings=settings, bus=bus,
                      manage_runtime=manage_runtime)
    runtime = app.state.runtime
    runtime.jobs.add("lapse_reservations", lambda: lapse_reservations(runtime))
    return app
