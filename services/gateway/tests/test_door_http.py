"""The door's HTTP manners (issue 10, item 7): one Date and one Server header, a 405 that names only the
path's methods, 503 with Retry-After when a service cannot be reached, 401s in the gateway's own words."""
from __future__ import annotations

import contextlib

import httpx
from fastapi import FastAPI, Response

from libs.common.events.transport import InProcessBus
from libs.common.migrations import upgrade
from libs.common.settings import Settings
from services.gateway.app import create_app
from tests.support import free_port

from .door import CHILD, Door, door


async def test_the_services_date_and_server_headers_are_not_copied_into_the_answer(tmp_path):
    upstream = FastAPI()

    @upstream.get("/v1/referrals/{referral_id}")
    async def one(referral_id: str):
        return Response('{"id": "x"}', media_type="application/json",
                        headers={"Date": "Mon, 01 Jan 2001 00:00:00 GMT", "Server": "uvicorn", "X-Kept": "yes"})

    settings = Settings.for_service("gateway", data_dir=tmp_path, transport="inprocess", log_json=True,
                                    database_url=f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}")
    await upgrade(settings)
    app = create_app(settings, bus=InProcessBus(), upstream_apps={"referral": upstream})
    async with app.router.lifespan_context(app):
        d = Door(app, settings)
        resp = await d.client.get(f"/v1/referrals/{CHILD}", headers=d.headers())
        await d.client.aclose()
    assert resp.status_code == 200 and resp.headers["x-kept"] == "yes"
    # the server in front of the gateway adds its own Date and Server: a copy would make two of each
    assert "date" not in resp.headers and "server" not in resp.headers


async def test_a_405_names_only_the_methods_of_that_path(tmp_path):
    async with door(tmp_path) as d:
        for method, path, allowed in (("DELETE", f"/v1/referrals/{CHILD}", "GET, PATCH"),
                                      ("PUT", "/v1/referrals", "POST"),
                                      ("OPTIONS", "/v1/referrals", "POST"),
                                      ("TRACE", f"/v1/referrals/{CHILD}", "GET, PATCH"),
                                      ("DELETE", "/v1/webhooks", "GET, POST"),
                                      ("GET", "/oauth/token", "POST")):
            resp = await d.client.request(method, path, headers=d.headers())
            assert resp.status_code == 405, (method, path, resp.text)
            assert resp.headers["allow"] == allowed, (method, path)
            if method in ("OPTIONS", "TRACE") or not path.startswith("/v1/referrals"):  # answered by the gateway
                assert resp.headers["content-type"] == "application/problem+json"
        assert (await d.client.delete("/v1/nothing-here", headers=d.headers())).status_code == 404


async def test_a_service_that_cannot_be_reached_is_503_with_retry_after(tmp_path):
    settings = Settings.for_service("gateway", data_dir=tmp_path, transport="inprocess", log_json=True,
                                    database_url=f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}",
                                    referral_url=f"http://127.0.0.1:{free_port()}")  # nothing listens there
    await upgrade(settings)
    app = create_app(settings, bus=InProcessBus())
    async with app.router.lifespan_context(app):
        d = Door(app, settings)
        resp = await d.client.get(f"/v1/referrals/{CHILD}", headers=d.headers())
        await d.client.aclose()
    assert resp.status_code == 503, resp.text
    assert int(resp.headers["retry-after"]) >= 1
    body = resp.json()
    assert body["type"].endswith("/service-unavailable")
    assert "Error" not in body["detail"] and "Connect" not in body["detail"]


async def test_a_refused_token_is_answered_at_the_door_in_its_own_words(tmp_path):
    async with door(tmp_path) as d:
        for token, detail in (("garbage", "malformed token"), ("a.b.c", "malformed token")):
            resp = await d.client.get(f"/v1/referrals/{CHILD}", headers={"Authorization": f"Bearer {token}"})
            assert resp.status_code == 401 and resp.json()["detail"] == detail, resp.text
            assert 'error="invalid_token"' in resp.headers["www-authenticate"]
