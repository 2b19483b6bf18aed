"""The billing service. Contracts, fee periods, invoices, adjustments and viability."""
from fastapi import FastAPI

from libs.common.web import service_app

from .api import PROBLEMS, ROUTERS
from .handlers import HANDLERS
from .scheduled import fees_taking_effect, purge_old_idempotency_keys
from .tables import metadata

SERVICE = "billing"
DESCRIPTION = "Contracts, fee schedules, fee periods, invoices, adjustments and home viability."


def create_app(settings=None, *, bus=None, manage_runtime: bool = True) -> FastAPI:
    app = service_app(SERVICE, metadata, ROUTERS, HANDLERS, description=DESCRIPTION, settings=settings, bus=bus,
                      manage_runtime=manage_runtime, problems=PROBLEMS)
    runtime = app.state.runtime
    runtime.jobs.add("purge_idempotency_keys", lambda: purge_old_idempotency_keys(runtime))
    runtime.jobs.add("fees_taking_effect", lambda: fees_taking_effect(runtime))
    return app
