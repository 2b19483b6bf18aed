"""The referral service. Councils' referrals, from intake to decision, withdrawal or expiry."""
from fastapi import FastAPI

from libs.common.web import service_app

from .api import PROBLEMS, ROUTERS
from .handlers import HANDLERS
from .scheduled import expire_overdue, purge_old_idempotency_keys
from .settings import ReferralSettings
from .tables import metadata

SERVICE = "referral"
DESCRIPTION = "Councils' referrals, from intake to decision, withdrawal or expiry."


def create_app(settings=None, *, bus=None, manage_runtime: bool = True,
               referral_settings: ReferralSettings | None = None) -> FastAPI:
    app = service_app(SERVICE, metadata, ROUTERS, HANDLERS, description=DESCRIPTION, settings=settings, bus=bus,
                      manage_runtime=manage_runtime, problems=PROBLEMS)
    app.state.referral_settings = referral_settings or ReferralSettings()
    runtime = app.state.runtime
    runtime.jobs.add("expire_referrals", lambda: expire_overdue(runtime, app.state.referral_settings))
    runtime.jobs.add("purge_idempotency_keys",
                     lambda: purge_old_idempotency_keys(runtime, app.state.referral_settings))
    return app
