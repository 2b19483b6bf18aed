"""The access log at the door: every read or change of a child's record, and every council's
attempt on a record it cannot see, is written before the answer leaves; only the hub reads it."""
from __future__ import annotations

from .support.referrals import REFERRAL

A, B = "E10000018", "E06000016"


async def test_the_hub_can_see_who_read_changed_or_was_denied_a_childs_record(sut):
    created = await sut.client.post("/v1/referrals", json=REFERRAL,
                                    headers={"X-Request-ID": "req-audit-1", "Idempotency-Key": "audit-1", **sut.council(A)})
    assert created.status_code == 201, created.text
    child = created.json()["id"]
    assert "x-itp-child-records" not in created.headers
    read = await sut.client.get(f"/v1/referrals/{child}", headers=sut.council(A))
    assert read.status_code == 200 and "x-itp-child-records" not in read.headers
    assert (await sut.client.get(f"/v1/referrals/{child}", headers=sut.council(B))).status_code == 404

    page = await sut.client.get("/v1/audit/access", params={"child": child}, headers=sut.hub())
    assert page.status_code == 200, page.text
    rows = page.json()["items"]
    assert [(r["action"], r["client_id"], r["la_code"], r["status"]) for r in rows] == [
        ("denied", f"council-{B}", B, 404),
        ("read", f"council-{A}", A, 200),
        ("create", f"council-{A}", A, 201),
    ]
    assert rows[1]["route"] == "GET /v1/referrals/{id}"
    assert rows[2]["request_id"] == "req-audit-1" and rows[2]["child_record_id"] == child

    by_client = (await sut.client.get("/v1/audit/access", params={"client": f"council-{B}"},
                                      headers=sut.hub())).json()["items"]
    assert [r["action"] for r in by_client] == ["denied"]

    first = (await sut.client.get("/v1/audit/access", params={"child": child, "limit": 2}, headers=sut.hub())).json()
    rest = (await sut.client.get("/v1/audit/access", params={"child": child, "cursor": first["next_cursor"]},
                                 headers=sut.hub())).json()
    assert [r["id"] for r in first["items"] + rest["items"]] == [r["id"] for r in rows]
    assert rest["next_cursor"] is None

    council = await sut.client.get("/v1/audit/access", params={"child": child}, headers=sut.council(A))
    assert council.status_code == 403
    finance = await sut.client.get("/v1/audit/access", headers=sut.hub("finance"))
    assert finance.status_code == 403
    dpo = await sut.client.get("/v1/audit/access", headers=sut.hub("provider_admin", scopes=["audit:read"]))
    assert dpo.status_code == 200
    bad = await sut.client.get("/v1/audit/access", params={"cursor": "nonsense"}, headers=sut.hub())
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.cursor"
    assert bad.json()["type"] == "https://itp.example.org/problems/validation-error"
    naive = await sut.client.get("/v1/audit/access", params={"since": "2026-11-23T09:00:00"}, headers=sut.hub())
    assert naive.status_code == 422 and naive.json()["errors"] == [
        {"field": "query.since", "rule": "timezone_aware", "message": naive.json()["errors"][0]["message"]}]
    assert naive.json()["type"] == "https://itp.example.org/problems/validation-error"
    huge = await sut.client.get("/v1/audit/access", params={"child": "x" * 65, "limit": 501}, headers=sut.hub())
    assert huge.status_code == 422 and {e["field"] for e in huge.json()["errors"]} == {"query.child", "query.limit"}

    doc = (await sut.client.get("/v1/openapi.json")).json()
    assert "/v1/audit/access" in doc["paths"]
