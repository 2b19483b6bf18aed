"""The assessment service. Placements, phases, pathway plans, reviews, step-down and endings."""
from datetime import datetime, timezone

from fastapi import FastAPI

from libs.common.web import service_app

from .api import PROBLEMS, ROUTERS
from .domain import calendar
from .handlers import HANDLERS
from .scheduled import purge_keys, sweep
from .tables import metadata

SERVICE = "assessment"
DESCRIPTION = "Placements, phases, pathway plans, reviews, step-down and endings."


def create_app(settings=None, *, bus=None, manage_runtime: bool = True) -> FastAPI:
    app = service_app(SERVICE, metadata, ROUTERS, HANDLERS, description=DESCRIPTION, settings=settings, bus=bus,
                      manage_runtime=manage_runtime, problems=PROBLEMS)
    runtime = app.state.runtime
    app.state.warm_ups = [lambda: calendar.warm(datetime.now(timezone.utc).date())]  # done at start-up (web.warm_up)
    runtime.jobs.add("deadline_notices", lambda: sweep(runtime))
    runtime.jobs.add("purge_idempotency_keys", lambda: purge_keys(runtime))
    return app
