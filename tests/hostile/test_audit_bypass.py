"""Issue 10, item 5: the access log cannot be skipped by calling a service's port directly.

Services accept only the short-lived internal token the gateway mints when it forwards a request
(audience itp-internal); the tokens councils hold (audience itp-api) are refused there, so every read of a
child's record goes through the door and its access log (docs/decisions/0005-door-tokens.md)."""
from __future__ import annotations

import httpx
import jwt

from libs.common.auth import INTERNAL_AUDIENCE, KeyStore, mint_service_token
from services.gateway.domain.principals import COUNCIL_SCOPES

from tests.support.referrals import REFERRAL

A = "E10000018"
JWT_LIBRARY_WORDS = ("audience", "Signature", "decode", "segments", "Invalid", "jwt")


async def _audit_rows(sut, child: str) -> list[dict]:
    page = await sut.client.get("/v1/audit/access", params={"child": child}, headers=sut.hub())
    assert page.status_code == 200, page.text
    return page.json()["items"]


async def test_a_council_token_sent_straight_to_a_service_is_refused_and_the_door_logs_every_read(sut):
    created = await sut.client.post("/v1/referrals", json=REFERRAL, headers={**sut.council(A), "Idempotency-Key": "bypass-1"})
    assert created.status_code == 201, created.text
    child = created.json()["id"]
    before = await _audit_rows(sut, child)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sut.system.services["referral"]),
                                 base_url="http://referral") as service:
        for _ in range(5):
            direct = await service.get(f"/v1/referrals/{child}", headers=sut.council(A))
            assert direct.status_code == 401, direct.text
            assert direct.headers["content-type"] == "application/problem+json"
            assert 'error="invalid_token"' in direct.headers["www-authenticate"]
            detail = direct.json()["detail"]
            assert detail == "token not accepted here"
            assert not any(word in detail for word in JWT_LIBRARY_WORDS), detail
            assert "id" not in direct.json() and "x-itp-child-records" not in direct.headers
        listed = await service.get("/v1/referrals", headers=sut.council(A))
        assert listed.status_code == 401
        # nothing was read, so nothing needs logging
        assert await _audit_rows(sut, child) == before

        # what the gateway sends (its internal token, signed by its key) is what the service takes
        keys = KeyStore(sut.runtime("gateway").settings.resolved_keys_file)
        internal = mint_service_token(keys, client_id=f"council-{A}", la_code=A, scopes=COUNCIL_SCOPES)
        assert jwt.decode(internal, options={"verify_signature": False})["aud"] == INTERNAL_AUDIENCE
        ok = await service.get(f"/v1/referrals/{child}", headers={"Authorization": f"Bearer {internal}"})
        assert ok.status_code == 200 and ok.json()["id"] == child

    # an internal token is no good at the door either: clients cannot use one in place of their own
    refused = await sut.client.get(f"/v1/referrals/{child}", headers={"Authorization": f"Bearer {internal}"})
    assert refused.status_code == 401 and refused.json()["detail"] == "token not accepted here"

    # through the door the same read works and leaves its row
    read = await sut.client.get(f"/v1/referrals/{child}", headers=sut.council(A))
    assert read.status_code == 200
    rows = await _audit_rows(sut, child)
    assert len(rows) == len(before) + 1 and rows[0]["action"] == "read" and rows[0]["client_id"] == f"council-{A}"


async def test_the_gateway_forwards_an_internal_token_with_the_callers_claims_and_reuses_it(sut):
    tokens = sut.system.gateway.state.forwarded_tokens
    seen: list[str] = []
    service = sut.system.services["referral"]
    verifier = service.state.runtime.verifier
    original = verifier.verify

    async def spy(token: str):
        seen.append(token)
        return await original(token)
    verifier.verify = spy
    try:
        headers = sut.council(A)
        for _ in range(3):
            assert (await sut.client.get("/v1/referrals", headers=headers)).status_code == 200
    finally:
        verifier.verify = original
    assert len(seen) == 3 and len(set(seen)) == 1  # one signature per caller token, not per request
    claims = jwt.decode(seen[0], options={"verify_signature": False})
    caller = jwt.decode(headers["Authorization"].split()[1], options={"verify_signature": False})
    assert claims["aud"] == INTERNAL_AUDIENCE and claims["sub"] == caller["sub"] and claims["la"] == A
    assert claims["scope"] == caller["scope"] and claims["exp"] <= caller["exp"]
    assert claims["exp"] - claims["iat"] <= tokens.ttl_seconds


async def test_401s_name_the_reason_without_the_jwt_librarys_words(sut):
    for token, reason in (("not-a-jwt", "malformed token"),
                          ("eyJhbGciOiJFUzI1NiJ9.e30.c2ln", "unknown signing key")):
        resp = await sut.client.get("/v1/referrals", headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 401 and resp.json()["detail"] == reason, resp.text
