"""Issue 10, item 7 through the whole system: 405 names only the path's methods (the services' routers
name only the first matching route's), and the merged OpenAPI document keeps If-Match and Idempotency-Key
required where the routes require them."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.parametrize("system_overrides", ["inprocess-sqlite"], indirect=True)


async def test_a_405_through_the_door_names_every_method_of_the_path_and_no_other(sut):
    for method, path, allowed in (("DELETE", "/v1/referrals", "GET, POST"),
                                  ("PUT", "/v1/referrals/00000000-0000-0000-0000-000000000000", "GET, PATCH"),
                                  ("OPTIONS", "/v1/referrals", "GET, POST"),
                                  ("HEAD", "/v1/homes", "GET, POST")):
        resp = await sut.client.request(method, path, headers=sut.hub())
        assert resp.status_code == 405, (method, path, resp.text)
        assert resp.headers["allow"] == allowed, (method, path)


def _header(op: dict, name: str) -> dict | None:
    return next((p for p in op.get("parameters", []) if p["in"] == "header" and p["name"].lower() == name), None)


async def test_the_merged_openapi_document_marks_required_write_headers(sut):
    doc = (await sut.client.get("/v1/openapi.json")).json()
    create = doc["paths"]["/v1/referrals"]["post"]
    change = doc["paths"]["/v1/referrals/{referral_id}"]["patch"]
    assert _header(change, "if-match")["required"] is True
    key = _header(create, "idempotency-key")
    assert key is not None and "x-itp-required" not in key["schema"]
    required = [(path, method, p["name"]) for path, item in doc["paths"].items() for method, op in item.items()
                for p in op.get("parameters", []) if p.get("required") and p["in"] == "header"]
    assert any(name.lower() == "if-match" for _, _, name in required)
    # the gateway's own routes too (its part of the document is built by the gateway, not fetched)
    assert _header(doc["paths"]["/v1/webhooks/{endpoint_id}"]["patch"], "if-match")["required"] is True
    assert "x-itp-required" not in str(doc)  # the marker never leaks into the contract
