"""Issue 17, the contract and the door: what a council's developer meets with only the OpenAPI document and
the error bodies. Unknown query parameters are refused by name, a body that is not JSON is a 415 naming the
media types, errors teach the expected format or shape, and the merged document states the whole contract."""
from __future__ import annotations

import uuid

import pytest

from .support.referrals import REFERRAL, create_referral, idempotent

pytestmark = pytest.mark.parametrize("system_overrides", ["inprocess-sqlite"], indirect=True)


async def test_an_unknown_query_parameter_is_a_422_naming_it_and_the_allowed_ones(sut):
    await create_referral(sut)
    r = await sut.client.get("/v1/referrals", params={"childref": "LCC-2026-09001"}, headers=sut.council())
    assert r.status_code == 422, r.text
    body = r.json()
    assert r.headers["content-type"] == "application/problem+json"
    assert body["errors"][0]["field"] == "query.childref" and body["errors"][0]["rule"] == "unknown_parameter"
    assert "child_ref" in body["allowed"] and "child_ref" in body["detail"] and "query.childref" in body["detail"]
    # the declared ones still work, on every service and on the gateway's own routes
    assert (await sut.client.get("/v1/referrals", params={"child_ref": "LCC-2026-00417"},
                                 headers=sut.council())).status_code == 200
    r = await sut.client.get("/v1/placements", params={"referral": "x", "nonsense": "1"}, headers=sut.hub())
    assert r.status_code == 422 and "query.nonsense" in r.json()["detail"]
    r = await sut.client.get("/v1/webhooks", params={"urll": "x"}, headers=sut.council(scopes=("webhooks:manage",)))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.urll"


async def test_a_body_without_a_json_content_type_is_a_415_naming_the_accepted_media_types(sut):
    import json

    for headers in ({}, {"content-type": "text/plain"}, {"content-type": "application/x-www-form-urlencoded"}):
        r = await sut.client.post("/v1/referrals", content=json.dumps(REFERRAL).encode(),
                                  headers=idempotent({**sut.council(), **headers}))
        assert r.status_code == 415, (headers, r.text)
        assert "application/json" in r.json()["detail"] and r.json()["accepted"] == ["application/json"]
    # PATCH takes JSON merge patch as well as plain JSON
    created = await create_referral(sut)
    r = await sut.client.patch(f"/v1/referrals/{created['id']}", content=b'{"summary": "Settled overnight."}',
                               headers={**sut.council(), "If-Match": '"1"',
                                        "content-type": "application/merge-patch+json"})
    assert r.status_code == 200, r.text
    r = await sut.client.patch(f"/v1/referrals/{created['id']}", content=b'{"summary": "x"}',
                               headers={**sut.council(), "If-Match": '"2"', "content-type": "text/plain"})
    assert r.status_code == 415 and r.json()["accepted"] == ["application/json", "application/merge-patch+json"]


async def test_an_unquoted_etag_is_a_400_that_says_etags_are_quoted(sut):
    created = await create_referral(sut)
    r = await sut.client.patch(f"/v1/referrals/{created['id']}", json={"summary": "x"},
                               headers={**sut.council(), "If-Match": "1"})
    assert r.status_code == 400, r.text
    assert 'If-Match: "1"' in r.json()["detail"] and "quoted" in r.json()["detail"]
    assert r.json()["errors"][0]["rule"] == "etag_quoted"


async def test_validation_errors_teach_the_expected_shape_format_and_values(sut):
    r = await sut.client.post("/v1/referrals", json={**REFERRAL, "needs": ["self_harm"], "date_of_birth": "10/06/2012",
                                                     "urgency": "soon"}, headers=idempotent(sut.council()))
    assert r.status_code == 422, r.text
    by_field = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert "{code, severity" in by_field["body.needs.0"], by_field
    assert "YYYY-MM-DD" in by_field["body.date_of_birth"]
    assert "crisis" in by_field["body.urgency"]


async def test_the_merged_document_states_the_whole_contract(sut):
    doc = (await sut.client.get("/v1/openapi.json")).json()
    ops = {(path, method): op for path, item in doc["paths"].items() for method, op in item.items()}
    ids = [op["operationId"] for op in ops.values()]
    assert len(ids) == len(set(ids))
    assert ops[("/v1/referrals", "post")]["operationId"] == "createReferral"
    assert ops[("/v1/referrals", "get")]["operationId"] == "listReferrals"
    assert all("_v1_" not in i for i in ids)
    # required headers, response headers
    create, change = ops[("/v1/referrals", "post")], ops[("/v1/referrals/{referral_id}", "patch")]
    assert next(p for p in create["parameters"] if p["name"] == "Idempotency-Key")["required"] is True
    assert next(p for p in change["parameters"] if p["name"] == "If-Match")["required"] is True
    assert {"ETag", "Location", "Idempotent-Replayed"} <= set(create["responses"]["201"]["headers"])
    assert "ETag" in change["responses"]["200"]["headers"] and "ETag" in change["responses"]["412"]["headers"]
    assert "ETag" in ops[("/v1/referrals/{referral_id}", "get")]["responses"]["200"]["headers"]
    assert "Retry-After" in create["responses"]["409"]["headers"]
    # merge patch on every PATCH
    for (path, method), op in ops.items():
        if method == "patch":
            assert "application/merge-patch+json" in op["requestBody"]["content"], path
    # OAuth2 client credentials for /docs' Authorize
    scheme = doc["components"]["securitySchemes"]["OAuth2"]
    assert scheme["flows"]["clientCredentials"]["tokenUrl"] == "/oauth/token"
    assert "referrals:write" in scheme["flows"]["clientCredentials"]["scopes"]
    assert any("OAuth2" in req for req in create["security"])
    # an example on every request body, a description on every tag
    for (path, method), op in ops.items():
        for media, content in op.get("requestBody", {}).get("content", {}).items():
            assert "example" in content or "examples" in content, (path, method, media)
    tags = {t["name"]: t for t in doc["tags"]}
    used = {tag for op in ops.values() for tag in op.get("tags", [])}
    assert used <= set(tags)
    assert all(t.get("description") for t in tags.values())


async def test_each_service_document_is_the_contract_too(sut):
    for name, app in sut.system.services.items():
        doc = app.openapi()
        assert doc.get("tags"), name
        ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
        assert len(ids) == len(set(ids)), name
        assert all("_v1_" not in i for i in ids), name


async def test_the_example_request_bodies_are_accepted(sut):
    """The example of POST /v1/referrals (what /docs' Try it out sends) makes a referral."""
    doc = (await sut.client.get("/v1/openapi.json")).json()
    example = doc["paths"]["/v1/referrals"]["post"]["requestBody"]["content"]["application/json"]["example"]
    r = await sut.client.post("/v1/referrals", json=example, headers={**sut.council(),
                                                                      "Idempotency-Key": str(uuid.uuid4())})
    assert r.status_code == 201, r.text


async def test_clients_are_granted_only_scopes_that_some_route_requires(sut):
    """Scopes only for routes that exist: every scope a council's client or a demo client is granted guards at
    least one operation of the merged document, and every scope an operation needs is in the OAuth2 scheme."""
    from itp.seed import DEMO_CLIENTS
    from services.gateway.domain.principals import COUNCIL_SCOPES

    doc = (await sut.client.get("/v1/openapi.json")).json()
    required = {scope for item in doc["paths"].values() for op in item.values()
                for req in op.get("security", []) for scope in req.get("OAuth2", [])}
    granted = set(COUNCIL_SCOPES) | {s for c in DEMO_CLIENTS for s in c.get("scopes", []) if s != "hub:all"}
    assert granted <= required, f"granted but guarding no route: {sorted(granted - required)}"
    listed = set(doc["components"]["securitySchemes"]["OAuth2"]["flows"]["clientCredentials"]["scopes"])
    assert required <= listed
    create = doc["paths"]["/v1/referrals"]["post"]
    assert create["security"][0] == {"OAuth2": ["referrals:write"]}


async def test_a_webhook_secret_is_shown_once_and_never_again(sut):
    council = sut.council(scopes=("webhooks:manage",))
    settings = sut.runtime("gateway").settings
    url = "https://hooks.example.org/itp" if not settings.webhook_allow_http_localhost else "http://127.0.0.1:9/x"
    body = {"url": url, "event_types": ["referral.*"]}
    first = await sut.client.post("/v1/webhooks", json=body, headers=council)
    assert first.status_code == 201 and first.json()["secret"].startswith("whsec_")
    again = await sut.client.post("/v1/webhooks", json=body, headers=council)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert "secret" not in again.json() and "whsec_" not in again.text
    listed = await sut.client.get("/v1/webhooks", headers=council)
    assert "whsec_" not in listed.text
