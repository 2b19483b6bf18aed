"""A right-to-erasure request becomes a recorded restriction, not a deletion (issue 15 item 6, decision 0006):
the hub records it (who asked, when, which parts, as codes), idempotently; from then on the child's record is
served to the hub only, marked, a council's reads answer 451 and its listings say how many were left out;
every step is in the access log; and the record itself is still there, whole."""
from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from .support.referrals import LEICESTER, LEICS, create_referral, events_of

ERASURE = {"reason_code": "erasure_request", "requested_by": "child", "requested_on": "2026-11-20",
           "scope": ["case_record", "health"]}


@pytest.mark.parametrize("system_overrides", ["inprocess-sqlite", "kafka-postgres"], indirect=True)
async def test_an_erasure_request_is_recorded_as_a_restriction_and_the_record_is_served_to_the_hub_only(sut):
    child = (await create_referral(sut, child_ref="ERASE-1"))["id"]
    other = (await create_referral(sut, child_ref="KEEP-1"))["id"]
    url = f"/v1/referrals/{child}/restrictions"

    # councils cannot record one; bad input names the field and the rule, and stores nothing
    assert (await sut.client.post(url, json=ERASURE, headers=sut.council(LEICS))).status_code == 403
    future = (date.today() + timedelta(days=2)).isoformat()
    bad = await sut.client.post(url, json={**ERASURE, "requested_on": future}, headers=sut.hub())
    assert bad.status_code == 422 and "body.requested_on" in bad.text, bad.text
    bad = await sut.client.post(url, json={**ERASURE, "scope": ["everything"]}, headers=sut.hub())
    assert bad.status_code == 422 and "scope" in bad.text
    bad = await sut.client.post(url, json={**ERASURE, "note": "free text"}, headers=sut.hub())
    assert bad.status_code == 422
    missing = await sut.client.post(f"/v1/referrals/{uuid.uuid4()}/restrictions", json=ERASURE, headers=sut.hub())
    assert missing.status_code == 404
    assert (await sut.client.get(f"/v1/referrals/{child}", headers=sut.council(LEICS))).status_code == 200

    made = await sut.client.post(url, json=ERASURE, headers={**sut.hub(), "Idempotency-Key": "restrict-1"})
    assert made.status_code == 201, made.text
    restriction = made.json()
    assert restriction["reason_code"] == "erasure_request" and restriction["requested_by"] == "child"
    assert restriction["scope"] == ["case_record", "health"] and restriction["recorded_by"] == "hub-hub"
    assert restriction["requested_on"] == "2026-11-20" and restriction["lifted_at"] is None
    # idempotent: the same key replays; the same request without a key answers the one recorded
    replay = await sut.client.post(url, json=ERASURE, headers={**sut.hub(), "Idempotency-Key": "restrict-1"})
    assert replay.status_code == 201 and replay.headers.get("Idempotent-Replayed") == "true"
    again = await sut.client.post(url, json=ERASURE, headers=sut.hub())
    assert again.status_code == 200 and again.json()["id"] == restriction["id"]
    listed = (await sut.client.get(url, headers=sut.hub())).json()["items"]
    assert [r["id"] for r in listed] == [restriction["id"]]
    emitted = [e for e in await events_of(sut) if e["type"] == "referral.restricted"]
    assert [(e["subject_id"], e["payload"]["restriction_id"], e["payload"]["reason_code"]) for e in emitted] == [
        (child, restriction["id"], "erasure_request")]  # once, codes only

    # the council's reads say so: 451 naming the reason and the date, never the record
    read = await sut.client.get(f"/v1/referrals/{child}", headers=sut.council(LEICS))
    assert read.status_code == 451, read.text
    problem = read.json()
    assert problem["reason_code"] == "erasure_request" and problem["requested_on"] == "2026-11-20"
    assert "ERASE-1" not in read.text and "date_of_birth" not in problem
    patch = await sut.client.patch(f"/v1/referrals/{child}", json={"urgency": "planned"},
                                   headers={**sut.council(LEICS), "If-Match": "*"})
    assert patch.status_code == 451
    page = (await sut.client.get("/v1/referrals", headers=sut.council(LEICS))).json()
    assert child not in [i["id"] for i in page["items"]] and other in [i["id"] for i in page["items"]]
    assert page["restricted_omitted"] == 1
    # another council still finds nothing at all
    assert (await sut.client.get(f"/v1/referrals/{child}", headers=sut.council(LEICESTER))).status_code == 404
    assert (await sut.client.get(url, headers=sut.council(LEICS))).status_code == 403

    # the hub still reads the whole record, marked
    hub = await sut.client.get(f"/v1/referrals/{child}", headers=sut.hub())
    assert hub.status_code == 200 and hub.json()["child_ref"] == "ERASE-1"
    assert hub.json()["restriction"]["id"] == restriction["id"]
    hub_page = (await sut.client.get("/v1/referrals", params={"child_ref": "ERASE-1"}, headers=sut.hub())).json()
    assert hub_page["items"][0]["restriction"]["reason_code"] == "erasure_request"
    assert (await sut.client.get(f"/v1/referrals/{other}", headers=sut.hub())).json()["restriction"] is None

    # audited: the hub's recording and read, the council's refused read
    log = (await sut.client.get("/v1/audit/access", params={"child": child}, headers=sut.hub())).json()["items"]
    seen = {(r["action"], r["client_id"], r["status"]) for r in log}
    assert ("create", "hub-hub", 201) in seen and ("read", "hub-hub", 200) in seen
    assert ("denied", f"council-{LEICS}", 451) in seen, seen
