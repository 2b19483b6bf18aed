"""The assessment service. Placements, phases, pathway plans, reviews, step-down and endings."""
from fastapi import FastAPI

from libs.common.web import service_app

from .api import router
from .handlers import HANDLERS
from .scheduled import sweep
from .tables import metadata

SERVICE = "assessment"
DESCRIPTION = "Placements, phases, pathway plans, reviews, step-down and endings."


def create_app(settings=None, *, bus=None, manage_runtime: bool = True) -> FastAPI:
    app = service_app(SERVICE, metadata, [router], HANDLERS, description=DESCRIPTION, settings=settings, bus=bus,
                      manage_runtime=manage_runtime)
    runtime = app.state.runtime
    runtime.jobs.add("deadline_notices", lambda: sweep(runtime))
    return app
