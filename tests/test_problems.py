"""Bad input gets an RFC 9457 problem document naming the field and the rule; never a 500."""
from __future__ import annotations

import pytest

from .support.referrals import REFERRAL, idempotent

pytestmark = pytest.mark.parametrize("system_overrides", ["inprocess-sqlite"], indirect=True)


async def test_an_invalid_referral_is_answered_with_a_problem_naming_each_field_and_rule(sut):
    bad = {**REFERRAL, "date_of_birth": "14/03/2012", "sex": "x", "home_postcode": "NOT A POSTCODE"}
    del bad["child_ref"]
    r = await sut.client.post("/v1/referrals", json=bad, headers=idempotent(sut.council()))
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["status"] == 422 and problem["type"].endswith("/validation-error")
    by_field = {e["field"]: e["rule"] for e in problem["errors"]}
    assert by_field["body.child_ref"] == "missing"
    assert by_field["body.date_of_birth"].startswith("date_")
    assert by_field["body.sex"] == "literal_error"
    assert by_field["body.home_postcode"] == "uk_postcode"


async def test_a_body_that_is_not_json_is_a_problem_not_a_crash(sut):
    r = await sut.client.post("/v1/referrals", content=b"{not json", headers=idempotent({
        **sut.council(), "content-type": "application/json"}))
    assert r.status_code == 422
    assert r.json()["errors"][0]["rule"] == "json_invalid"


async def test_unknown_routes_and_ids_are_problems(sut):
    r = await sut.client.get("/v1/nothing-here", headers=sut.hub())
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    r = await sut.client.get("/v1/referrals/not-a-uuid", headers=sut.council())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "path.referral_id"


async def test_a_rejected_request_leaves_what_was_stored_untouched(sut):
    ok = await sut.client.post("/v1/referrals", json=REFERRAL, headers=idempotent(sut.council()))
    await sut.client.post("/v1/referrals", json={**REFERRAL, "urgency": "whenever"}, headers=idempotent(sut.council()))
    again = await sut.client.get(f"/v1/referrals/{ok.json()['id']}", headers=sut.council())
    assert again.json() == ok.json()


async def test_the_gateway_forwards_an_encoded_path_as_it_came_and_odd_bytes_get_a_404_not_a_500(sut):
    # an encoded "?" in an id must stay part of the path, not become a query string
    odd = await sut.client.get("/v1/referrals/abc%3Fstatus=received", headers=sut.council())
    assert odd.status_code in (404, 422) and odd.headers["content-type"] == "application/problem+json"
    assert odd.json()["instance"].endswith("/v1/referrals/abc%3Fstatus=received")  # one path segment upstream
    weird = await sut.client.get("/v1/referrals/%14%F3%94%88%87%3F%C2%81", headers=sut.council())
    assert weird.status_code in (404, 422) and weird.headers["content-type"] == "application/problem+json"
    listed = await sut.client.get("/v1/referrals?status=received&limit=1", headers=sut.council())
    assert listed.status_code == 200 and "items" in listed.json()
