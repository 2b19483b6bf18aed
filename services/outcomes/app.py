"""The outcomes service. Outcome measures, journeys, total cost of care and sufficiency."""
from fastapi import FastAPI

from libs.common.web import service_app

from .api import PROBLEMS, ROUTERS
from .handlers import HANDLERS
from .scheduled import measure_deadlines, purge_old_idempotency_keys
from .tables import metadata

SERVICE = "outcomes"
DESCRIPTION = "Outcome measures (SDQ, education, health, stability), progress and cohorts, journeys and the " \
              "total cost of care, and the commissioners' sufficiency report."


def create_app(settings=None, *, bus=None, manage_runtime: bool = True) -> FastAPI:
    app = service_app(SERVICE, metadata, ROUTERS, HANDLERS, description=DESCRIPTION, settings=settings, bus=bus,
                      manage_runtime=manage_runtime, problems=PROBLEMS)
    runtime = app.state.runtime
    runtime.jobs.add("measure_deadlines", lambda: measure_deadlines(runtime))
    runtime.jobs.add("purge_idempotency_keys", lambda: purge_old_idempotency_keys(runtime))
    return app
