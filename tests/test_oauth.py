"""The council door: OAuth2 client credentials at the gateway, tokens verified by every service."""
from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from libs.common.auth import KeyStore, mint_token
from services.gateway.clients import create_client

from .support.referrals import REFERRAL

pytestmark = pytest.mark.parametrize("system_overrides", ["inprocess-sqlite"], indirect=True)

FORM = {"content-type": "application/x-www-form-urlencoded"}


def basic(client_id: str, secret: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode(), **FORM}


async def add_client(sut, **kwargs) -> dict:
    kwargs.setdefault("name", "test client")
    async with sut.runtime("gateway").db.session() as session, session.begin():
        return await create_client(session, **kwargs)


async def token_for(sut, client: dict, body: str = "grant_type=client_credentials") -> dict:
    resp = await sut.client.post("/oauth/token", content=body, headers=basic(client["client_id"], client["client_secret"]))
    assert resp.status_code == 200, resp.text
    return resp.json()


async def test_a_council_client_gets_a_token_by_basic_or_form_and_refers_a_child_with_it(sut):
    council = await add_client(sut, la_code="E10000018")
    issued = await token_for(sut, council)
    assert issued["token_type"] == "Bearer" and issued["expires_in"] == 600
    assert set(issued["scope"].split()) >= {"referrals:write", "referrals:read"}
    claims = jwt.decode(issued["access_token"], options={"verify_signature": False})
    assert claims["la"] == "E10000018" and claims["sub"] == council["client_id"]
    assert jwt.get_unverified_header(issued["access_token"])["kid"]

    by_form = await sut.client.post("/oauth/token", headers=FORM, content=(
        f"grant_type=client_credentials&client_id={council['client_id']}&client_secret={council['client_secret']}"))
    assert by_form.status_code == 200, by_form.text
    assert by_form.headers["cache-control"] == "no-store"

    created = await sut.client.post("/v1/referrals", json=REFERRAL, headers={
        "Authorization": f"Bearer {by_form.json()['access_token']}", "Idempotency-Key": "oauth-1"})
    assert created.status_code == 201, created.text
    assert created.json()["la_code"] == "E10000018"


async def test_the_token_endpoint_answers_rfc_6749_errors(sut):
    council = await add_client(sut, la_code="E06000016", scopes=["referrals:read"])

    async def error(body: str, headers: dict) -> tuple[int, dict, dict]:
        resp = await sut.client.post("/oauth/token", content=body, headers=headers)
        return resp.status_code, resp.json(), resp.headers

    status, body, headers = await error("grant_type=client_credentials", basic(council["client_id"], "wrong"))
    assert (status, body["error"]) == (401, "invalid_client")
    assert headers["www-authenticate"].startswith("Basic")
    status, body, _ = await error("grant_type=client_credentials", basic("nobody", "whatever"))
    assert (status, body["error"]) == (401, "invalid_client")
    status, body, _ = await error("grant_type=client_credentials", FORM)
    assert (status, body["error"]) == (401, "invalid_client")
    status, body, _ = await error("grant_type=password&username=a&password=b",
                                  basic(council["client_id"], council["client_secret"]))
    assert (status, body["error"]) == (400, "unsupported_grant_type")
    status, body, _ = await error("scope=referrals:read", basic(council["client_id"], council["client_secret"]))
    assert (status, body["error"]) == (400, "invalid_request")
    status, body, _ = await error("grant_type=client_credentials&scope=referrals:read+referrals:write",
                                  basic(council["client_id"], council["client_secret"]))
    assert (status, body["error"]) == (400, "invalid_scope")
    assert "referrals:write" in body["error_description"]
    status, body, _ = await error(f"grant_type=client_credentials&client_secret={council['client_secret']}",
                                  basic(council["client_id"], council["client_secret"]))
    assert (status, body["error"]) == (400, "invalid_request")
    resp = await sut.client.post("/oauth/token", json={"grant_type": "client_credentials"},
                                 headers={k: v for k, v in basic(council["client_id"], council["client_secret"]).items()
                                          if k != "content-type"})
    assert (resp.status_code, resp.json()["error"]) == (400, "invalid_request")


async def test_a_token_carries_only_the_scopes_asked_for_and_every_service_checks_them(sut):
    council = await add_client(sut, la_code="E10000018")
    narrow = await token_for(sut, council, "grant_type=client_credentials&scope=referrals:read")
    assert narrow["scope"] == "referrals:read"
    refused = await sut.client.post("/v1/referrals", json=REFERRAL, headers={
        "Authorization": f"Bearer {narrow['access_token']}", "Idempotency-Key": "oauth-2"})
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert 'insufficient_scope' in refused.headers["www-authenticate"]


class MovableClock:
    """The clocks every token verifier (the gateway's and each service's) and the gateway's internal-token
    minter read: tests move time instead of waiting for it."""

    def __init__(self):
        self.wall = time.time()
        self.mono = time.monotonic()

    def now(self) -> float:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.wall += seconds
        self.mono += seconds


def movable_clock(sut) -> MovableClock:
    clock = MovableClock()
    for service in ("gateway", *sut.system.services):
        verifier = sut.runtime(service).verifier
        verifier.now, verifier.monotonic = clock.now, clock.monotonic
    sut.system.gateway.state.forwarded_tokens.now = clock.now
    return clock


async def test_expired_tampered_unknown_key_and_rotated_out_tokens_are_refused(sut):
    keys = KeyStore(sut.runtime("gateway").settings.resolved_keys_file)
    scopes = ["referrals:read", "referrals:write"]
    clock = movable_clock(sut)

    async def answer(token: str):
        resp = await sut.client.get("/v1/referrals/00000000-0000-0000-0000-000000000000",
                                    headers={"Authorization": f"Bearer {token}"})
        if resp.status_code == 401:
            assert resp.headers["content-type"] == "application/problem+json"
            assert 'error="invalid_token"' in resp.headers["www-authenticate"]
        return resp

    async def status_with(token: str) -> int:
        return (await answer(token)).status_code

    good = mint_token(keys, client_id="c", la_code="E10000018", scopes=scopes, now=clock.now())
    assert await status_with(good) == 404  # a valid token; the referral just is not there

    expired = mint_token(keys, client_id="c", la_code="E10000018", scopes=scopes, now=clock.now() - 3600)
    assert (await answer(expired)).json()["detail"] == "token expired"

    # a token expires when the clock passes its exp, not a moment before
    short = mint_token(keys, client_id="c", la_code="E10000018", scopes=scopes, ttl_seconds=60, now=clock.now())
    assert await status_with(short) == 404
    clock.advance(59)
    assert await status_with(short) == 404  # the internal token the gateway forwards lives no longer than this one
    clock.advance(1)
    refused = await answer(short)
    assert refused.status_code == 401 and refused.json()["detail"] == "token expired"

    header, payload, signature = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["la"] = "E06000016"  # another council's tenancy, keeping the original signature
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    tampered = await answer(f"{header}.{forged}.{signature}")
    assert tampered.status_code == 401 and tampered.json()["detail"] == "invalid token"

    other_store = KeyStore(sut.runtime("gateway").settings.data_dir / "someone-elses-keys.json")
    assert await status_with(mint_token(other_store, client_id="c", la_code="E10000018", scopes=scopes,
                                        now=clock.now())) == 401

    # rotation: two keys live at once, then the oldest is retired
    before = mint_token(keys, client_id="c", la_code="E10000018", scopes=scopes, now=clock.now())
    keys.rotate()
    jwks = (await sut.client.get("/.well-known/jwks.json")).json()
    assert len(jwks["keys"]) == 2 and {k["alg"] for k in jwks["keys"]} == {"ES256"}
    after = mint_token(keys, client_id="c", la_code="E10000018", scopes=scopes, now=clock.now())
    assert jwt.get_unverified_header(after)["kid"] != jwt.get_unverified_header(before)["kid"]
    # a verifier refetches the key set for an unknown kid at most twice a second (a flood of made-up kids
    # must not become a flood of fetches): half a second later the new key is known everywhere
    clock.advance(0.5)
    assert await status_with(before) == 404 and await status_with(after) == 404
    keys.rotate()
    assert jwt.get_unverified_header(before)["kid"] not in {
        k["kid"] for k in (await sut.client.get("/.well-known/jwks.json")).json()["keys"]}
    clock.advance(1.0)  # verifiers hold the key set for a while (1 s with a local key file, 5 min from a JWKS URL)
    assert await status_with(before) == 401
    assert await status_with(after) == 404


async def test_a_service_refuses_an_internal_token_once_its_clock_passes_exp(sut):
    """Services check the internal token's exp against their own (injectable) clock too."""
    import httpx

    from libs.common.auth import mint_service_token

    clock = movable_clock(sut)
    keys = KeyStore(sut.runtime("gateway").settings.resolved_keys_file)
    internal = mint_service_token(keys, client_id="c", la_code="E10000018", scopes=["referrals:read"], now=clock.now())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sut.system.services["referral"]),
                                 base_url="http://referral") as service:
        assert (await service.get("/v1/referrals", headers={"Authorization": f"Bearer {internal}"})).status_code == 200
        clock.advance(60)
        late = await service.get("/v1/referrals", headers={"Authorization": f"Bearer {internal}"})
        assert late.status_code == 401 and late.json()["detail"] == "token expired"


async def test_the_token_endpoint_is_in_the_merged_openapi_document(sut):
    doc = (await sut.client.get("/v1/openapi.json")).json()
    assert "post" in doc["paths"]["/oauth/token"]
    assert "/.well-known/jwks.json" in doc["paths"]
