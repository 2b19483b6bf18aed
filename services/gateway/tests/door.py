"""The gateway alone (SQLite, in-process bus) in front of a stub upstream, for fast tests of the door."""
from __future__ import annotations

import contextlib

import httpx
from fastapi import FastAPI, Request

from libs.common.audit import touched
from libs.common.auth import KeyStore, mint_token
from libs.common.events.transport import InProcessBus
from libs.common.migrations import upgrade
from libs.common.settings import Settings
from services.gateway.app import create_app

CHILD = "3f2c8a64-1f0e-4e36-9a51-7d1b2f3c4d5e"


def stub_referral_service() -> FastAPI:
    """Answers like the referral service does: names the child record it touched, 404s otherwise."""
    app = FastAPI()

    @app.api_route("/v1/referrals/{referral_id}", methods=["GET", "PATCH"])
    async def one(referral_id: str, request: Request):
        if referral_id != CHILD:
            return _not_found()
        touched(request, referral_id)
        return {"id": referral_id}

    @app.post("/v1/referrals")
    async def create(request: Request):
        body = await request.body()
        return {"received_bytes": len(body)}

    from libs.common.audit import ChildRecordsMiddleware
    app.add_middleware(ChildRecordsMiddleware)
    return app


def _not_found():
    from fastapi.responses import JSONResponse
    return JSONResponse({"title": "Not Found", "status": 404}, status_code=404)


class Door:
    def __init__(self, app: FastAPI, settings: Settings):
        self.app = app
        self.settings = settings
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("203.0.113.7", 5000)),
                                        base_url="http://gateway.test")

    @property
    def runtime(self):
        return self.app.state.runtime

    def headers(self, client_id: str = "council-a", la_code: str | None = "E10000018", role: str | None = None,
                scopes=("referrals:read", "referrals:write", "webhooks:manage")) -> dict:
        token = mint_token(KeyStore(self.settings.resolved_keys_file), client_id=client_id, la_code=la_code,
                           role=role, scopes=scopes)
        return {"Authorization": f"Bearer {token}"}


@contextlib.asynccontextmanager
async def door(tmp_path, **overrides):
    settings = Settings.for_service("gateway", data_dir=tmp_path, transport="inprocess", log_json=True,
                                    database_url=f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}", **overrides)
    await upgrade(settings)
    app = create_app(settings, bus=InProcessBus(), upstream_apps={"referral": stub_referral_service()})
    async with app.router.lifespan_context(app):
        d = Door(app, settings)
        try:
            yield d
        finally:
            await d.client.aclose()
