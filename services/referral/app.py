"""The referral service. Councils' referrals, from intake to withdrawal."""
from fastapi import FastAPI

from libs.common.web import service_app

from .api import router
from .tables import metadata

SERVICE = "referral"
DESCRIPTION = "Councils' referrals, from intake to withdrawal."


def create_app(settings=None, *, bus=None, manage_runtime: bool = True) -> FastAPI:
    return service_app(SERVICE, metadata, [router], None, description=DESCRIPTION, settings=settings, bus=bus,
                       manage_runtime=manage_runtime)
