"""The billing service. Contracts, fee periods, invoices and adjustments."""
from fastapi import FastAPI

from libs.common.web import service_app

from .tables import metadata

SERVICE = "billing"
DESCRIPTION = "Contracts, fee periods, invoices and adjustments."


def create_app(settings=None, *, bus=None, manage_runtime: bool = True) -> FastAPI:
    return service_app(SERVICE, metadata, [], None, description=DESCRIPTION, settings=settings, bus=bus,
                       manage_runtime=manage_runtime)
