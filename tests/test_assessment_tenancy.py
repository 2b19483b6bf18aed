"""Who sees which placement: a council only its own children (another council's answer 404, never
403, and never appear in lists), a home manager only the placements in their homes; councils never
write. Bad input answers problem+json naming the field and the rule."""
from __future__ import annotations

import json
import uuid

from .support.assessment import admit, arrive, days, every_page, issue_plan, key, new_home
from .support.referrals import events_of

A, B = "E10000018", "E06000016"


def manager(sut, home_id: str) -> dict:
    token = sut.token(client_id=f"manager-{home_id[:8]}", role="home_manager", homes=[home_id],
                      scopes=["placements:read", "plans:read", "placements:write"])
    return {"Authorization": f"Bearer {token}"}


async def test_another_council_gets_404_and_never_sees_the_placement_plan_or_review(sut):
    home = await new_home(sut)
    placement = await admit(sut, home, la_code=A)
    await arrive(sut, placement, days_ago=40)
    plan = await issue_plan(sut, placement)
    review = (await sut.client.get(f"/v1/placements/{placement['id']}/reviews", headers=sut.hub())).json()["items"][0]

    for url in (f"/v1/placements/{placement['id']}", f"/v1/placements/{placement['id']}/plan",
                f"/v1/placements/{placement['id']}/tasks", f"/v1/placements/{placement['id']}/reviews",
                f"/v1/plans/{plan['id']}", f"/v1/plans/{plan['id']}/versions", f"/v1/plans/{plan['id']}/versions/1",
                f"/v1/reviews/{review['id']}"):
        mine = await sut.client.get(url, headers=sut.council(A))
        theirs = await sut.client.get(url, headers=sut.council(B))
        assert mine.status_code == 200, (url, mine.text)
        assert theirs.status_code == 404 and theirs.headers["content-type"] == "application/problem+json", url
    for url in ("/v1/placements", "/v1/deadlines"):
        listed = await every_page(sut, url, sut.council(B))
        assert placement["id"] not in json.dumps(listed)
    assert placement["id"] in {p["id"] for p in await every_page(sut, "/v1/placements", sut.council(A))}
    # councils read; they never write
    write = await sut.client.post(f"/v1/placements/{placement['id']}/ending", headers={**key(), **sut.council(A)},
                                  json={"end_date": days(0), "ending_type": "breakdown", "reason_code": "X1",
                                        "reason_place_change": "CREQB"})
    assert write.status_code == 403


async def test_a_home_manager_sees_and_changes_only_the_placements_in_their_homes(sut):
    home, other = await new_home(sut), await new_home(sut)
    mine = await admit(sut, home)
    theirs = await admit(sut, other)
    headers = manager(sut, home["id"])
    listed = (await sut.client.get("/v1/placements", headers=headers)).json()
    assert [p["id"] for p in listed["items"]] == [mine["id"]] and listed["next_cursor"] is None
    assert (await sut.client.get(f"/v1/placements/{theirs['id']}", headers=headers)).status_code == 404
    blocked = await sut.client.post(f"/v1/placements/{theirs['id']}/arrival", headers=headers,
                                    json={"arrival_date": days(0)})
    assert blocked.status_code == 404
    arrived = await sut.client.post(f"/v1/placements/{mine['id']}/arrival", headers=headers,
                                    json={"arrival_date": days(0)})
    assert arrived.status_code == 200 and arrived.json()["status"] == "phase_1"
    overdue = (await sut.client.get("/v1/deadlines", params={"home": home["id"], "state": "due_soon"},
                                    headers=headers)).json()["items"]
    assert {d["item"] for d in overdue} >= {"safety_and_risk_plan", "soft_landing", "key_worker_assigned"}
    assert (await sut.client.get("/v1/deadlines", params={"home": other["id"]}, headers=headers)).json() == {
        "items": [], "next_cursor": None}


async def test_bad_input_names_the_field_and_the_rule(sut):
    home = await new_home(sut)
    placement = await admit(sut, home)
    future = await sut.client.post(f"/v1/placements/{placement['id']}/arrival", headers=sut.hub(),
                                   json={"arrival_date": days(3)})
    assert future.status_code == 422 and future.headers["content-type"] == "application/problem+json"
    assert future.json()["errors"][0]["field"] == "body.arrival_date"
    wrong = await sut.client.post(f"/v1/placements/{placement['id']}/arrival", headers=sut.hub(),
                                  json={"arrival_date": "23/11/2026"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "body.arrival_date"
    await arrive(sut, placement, days_ago=10)
    no_reason = await sut.client.post(f"/v1/placements/{placement['id']}/phase-1-extension", headers=sut.hub(),
                                      json={"new_end_date": days(60), "reason": ""})
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "body.reason"
    extended = await sut.client.post(f"/v1/placements/{placement['id']}/phase-1-extension", headers=sut.hub(),
                                     json={"new_end_date": days(60), "reason": "CAMHS assessment outstanding"})
    assert extended.status_code == 200 and extended.json()["phase_1_extended"]
    assert extended.json()["phase_1_end"] == days(60)
    # kept in the audit of transitions and told to billing: Phase 1 runs on from the day after day 28
    audit = extended.json()["transitions"][-1]
    assert (audit["from_phase"], audit["to_phase"], audit["effective_date"], audit["phase_ends_on"]) == \
        ("phase_1", "phase_1", days(-10 + 28), days(60))
    told = [e["payload"] for e in await events_of(sut, "assessment") if e["type"] == "phase.transitioned"]
    assert [(t["from_phase"], t["to_phase"], t["phase_ends_on"]) for t in told] == \
        [(None, "phase_1", days(-10 + 27)), ("phase_1", "phase_1", days(60))]
    code = await sut.client.post(f"/v1/placements/{placement['id']}/ending", headers=sut.hub(),
                                 json={"end_date": days(0), "ending_type": "custody", "reason_code": "E4A"})
    assert code.status_code == 422 and code.json()["errors"][0]["rule"] == "reason_code_for_ending"
    step_down = await sut.client.put(f"/v1/placements/{placement['id']}/step-down", headers=sut.hub(),
                                     json={"destination": "foster_care", "target_date": days(90)})
    assert step_down.status_code == 409 and step_down.json()["current_status"] == "phase_1"
    unplanned = await sut.client.post(f"/v1/placements/{placement['id']}/ending", headers=sut.hub(),
                                      json={"end_date": days(0), "ending_type": "breakdown", "reason_code": "X1",
                                        "reason_place_change": "CREQB"})
    assert unplanned.status_code == 200 and not unplanned.json()["ending"]["planned"]
    missing = await sut.client.get(f"/v1/placements/{uuid.uuid4()}", headers=sut.hub())
    assert missing.status_code == 404
