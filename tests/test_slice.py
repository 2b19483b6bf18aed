"""The thin real slice: a council refers a child through the gateway; matching lists it."""
from __future__ import annotations


from .support import wait_for
from .support.referrals import REFERRAL, idempotent


async def test_a_referral_posted_at_the_gateway_is_listed_in_matching(sut):
    created = await sut.client.post("/v1/referrals", json=REFERRAL,
                                  headers=idempotent({"X-Request-ID": "req-slice-1", **sut.council("E10000018")}))
    assert created.status_code == 201, created.text
    assert created.headers["x-request-id"] == "req-slice-1"
    referral = created.json()
    assert referral["home_outward_code"] == "LE4"
    assert "x-itp-child-records" not in created.headers  # the gateway audits it, then strips it
    assert referral["status"] == "received"
    assert created.headers["location"] == f"/v1/referrals/{referral['id']}"

    async def listed():
        r = await sut.client.get(f"/v1/referrals/{referral['id']}/matches", headers=sut.hub())
        return r if r.status_code == 200 else None

    matches = (await wait_for(listed)).json()
    assert matches["referral_id"] == referral["id"]
    assert matches["referral_status"] == "awaiting_decision"
    assert matches["options"] == []

    fetched = await sut.client.get(f"/v1/referrals/{referral['id']}", headers=sut.council("E10000018"))
    assert fetched.status_code == 200
    assert fetched.json() == referral
    assert referral["la_code"] == "E10000018"
    other_council = await sut.client.get(f"/v1/referrals/{referral['id']}", headers=sut.council("E06000016"))
    assert other_council.status_code == 404
    anonymous = await sut.client.get(f"/v1/referrals/{referral['id']}")
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"


async def test_the_gateway_serves_one_merged_openapi_document_and_a_docs_page(sut):
    doc = (await sut.client.get("/v1/openapi.json")).json()
    assert "/v1/referrals" in doc["paths"]
    assert "/v1/referrals/{referral_id}/matches" in doc["paths"]
    assert not any(p.startswith("/health") for p in doc["paths"])
    for path_item in doc["paths"].values():
        for op in path_item.values():
            for response in op.get("responses", {}).values():
                for media in response.get("content", {}).values():
                    ref = media.get("schema", {}).get("$ref")
                    if ref:
                        assert ref.rsplit("/", 1)[1] in doc["components"]["schemas"], ref
    page = await sut.client.get("/docs")
    assert page.status_code == 200 and "/v1/openapi.json" in page.text


async def test_every_service_reports_live_and_ready(sut):
    for service, app in {"gateway": sut.system.gateway, **sut.system.services}.items():
        import httpx
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as client:
            assert (await client.get("/health/live")).json() == {"status": "ok"}
            ready = await client.get("/health/ready")
            assert ready.status_code == 200, (service, ready.text)
            assert ready.json()["checks"] == {"database": "ok", "broker": "ok"}
