"""The hub dashboard, served by the gateway at /dashboard (see views.py). It reads and writes only through the
public /v1 API, as the signed-in user; its routes are not part of the API or its OpenAPI document."""
from . import outreach  # noqa: F401  (the Outreach page's routes, on the same router)
from .views import router

__all__ = ["router"]
