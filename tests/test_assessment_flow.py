"""The assessment service end to end through the gateway, on both transports: refer, accept (matching's
real admissions API), arrive, issue the Initial Pathway Plan, move to Phase 2, complete the 90-day
review, plan a step-down, end the placement; in a one-bed home the freed bed becomes the Pathway Bed again."""
from __future__ import annotations

import uuid

from .support.assessment import SECTIONS, admit, days, issue_plan, key
from .support import wait_for
from .support.matching import PROVIDER_SCOPES, onboard_live_home


async def test_a_child_goes_from_admission_through_both_phases_to_a_step_down_and_the_bed_returns(sut):
    # a one-bed home: while the child lives there it has no Pathway Bed; the ending makes the bed the next one
    home = await onboard_live_home(sut, f"SC{uuid.uuid4().int % 900000 + 100000}", registered_places=1)
    placement = await admit(sut, home)
    assert placement["status"] == "pending" and placement["allowed_moves"] == ["arrive"]
    assert placement["la_code"] == "E10000018" and placement["phase"] == "pending"

    # Phase 2 before arrival: 409 with the allowed moves
    early = await sut.client.post(f"/v1/placements/{placement['id']}/phase-2", headers=sut.hub(),
                                  json={"effective_date": days(0)})
    assert early.status_code == 409 and early.headers["content-type"] == "application/problem+json"
    assert early.json()["allowed_moves"] == ["arrive"] and early.json()["current_status"] == "pending"

    # the child arrived 120 days ago (recorded late): Phase 1, day 121 today by the counter
    arrival_key = key()
    body = {"arrival_date": days(-120), "key_worker": "KW-17", "therapeutic_lead": "TL-3"}
    arrived = await sut.client.post(f"/v1/placements/{placement['id']}/arrival", json=body,
                                    headers={**arrival_key, **sut.hub()})
    assert arrived.status_code == 200, arrived.text
    again = await sut.client.post(f"/v1/placements/{placement['id']}/arrival", json=body,
                                  headers={**arrival_key, **sut.hub()})
    assert again.status_code == 200 and again.json() == arrived.json()
    assert again.headers["idempotent-replayed"] == "true"
    other_body = await sut.client.post(f"/v1/placements/{placement['id']}/arrival",
                                       json={**body, "key_worker": "KW-2"}, headers={**arrival_key, **sut.hub()})
    assert other_body.status_code == 422
    p = arrived.json()
    assert p["status"] == "phase_1" and p["phase_1_end"] == days(-120 + 27) and p["day"] == 121
    tasks = (await sut.client.get(f"/v1/placements/{placement['id']}/tasks", headers=sut.hub())).json()["items"]
    safety = next(t for t in tasks if t["code"] == "safety_and_risk_plan")
    assert safety["due_date"] == days(-118) and safety["state"] == "overdue"
    assert next(t for t in tasks if t["code"] == "key_worker_assigned")["state"] == "met"
    done = await sut.client.post(f"/v1/placements/{placement['id']}/tasks/safety_and_risk_plan/complete",
                                 json={"done_on": days(-118)}, headers={**key(), **sut.hub()})
    assert done.status_code == 200 and done.json()["state"] == "met"

    # the bed is occupied in matching
    provider = sut.hub("provider_admin", scopes=PROVIDER_SCOPES)

    async def occupied():
        beds = (await sut.client.get(f"/v1/homes/{home['id']}/beds", headers=provider)).json()["items"]
        return beds if any(b["id"] == placement["bed_id"] and b["state"] == "occupied" for b in beds) else None
    full = await wait_for(occupied)
    assert not any(b["is_pathway"] for b in full)  # no vacancy, no Pathway Bed

    # Phase 2 needs the Initial Pathway Plan; the plan is late (not issued by day 28)
    blocked = await sut.client.post(f"/v1/placements/{placement['id']}/phase-2", headers=sut.hub(),
                                    json={"effective_date": days(-92), "reason": "IPP agreed at day 28 meeting"})
    assert blocked.status_code == 409
    plan = await sut.client.get(f"/v1/placements/{placement['id']}/plan", headers=sut.hub())
    assert plan.json()["late"] and plan.json()["status"] == "draft"
    no_if_match = await sut.client.patch(f"/v1/plans/{plan.json()['id']}", json={"sections": SECTIONS},
                                         headers=sut.hub())
    assert no_if_match.status_code == 428
    stale = await sut.client.patch(f"/v1/plans/{plan.json()['id']}", json={"sections": SECTIONS},
                                   headers={"If-Match": '"99"', **sut.hub()})
    assert stale.status_code == 412
    not_ready = await sut.client.post(f"/v1/plans/{plan.json()['id']}/issue", headers=sut.hub())
    assert not_ready.status_code == 422 and not_ready.json()["errors"][0]["field"] == "body.sections"
    issued = await issue_plan(sut, placement)
    assert issued["status"] == "issued" and issued["issued_version"] == 1 and issued["versions"] == [1]

    # back-dated Phase 2 needs a reason; with one it is audited
    no_reason = await sut.client.post(f"/v1/placements/{placement['id']}/phase-2", headers=sut.hub(),
                                      json={"effective_date": days(-92)})
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "body.reason"
    moved = await sut.client.post(f"/v1/placements/{placement['id']}/phase-2", headers={**key(), **sut.hub()},
                                  json={"effective_date": days(-92), "reason": "IPP agreed at day 28 meeting"})
    assert moved.status_code == 200, moved.text
    p = moved.json()
    assert [(s["phase"], s["start"], s["end"]) for s in p["phase_history"]] == [
        ("phase_1", days(-120), days(-92)), ("phase_2", days(-92), None)]
    assert p["transitions"][-1]["backdated"] and p["transitions"][-1]["reason"]
    as_of = (await sut.client.get(f"/v1/placements/{placement['id']}", params={"as_of": days(-93)},
                                  headers=sut.council())).json()
    assert as_of["phase"] == "phase_1" and as_of["day"] == 28

    # the 90-day review issues version 2 and schedules the next review 6 months on
    reviews = (await sut.client.get(f"/v1/placements/{placement['id']}/reviews", headers=sut.council())).json()["items"]
    assert [(r["kind"], r["due_date"], r["state"]) for r in reviews] == [("90_day", days(-120 + 89), "overdue")]
    completed = await sut.client.post(f"/v1/reviews/{reviews[0]['id']}/complete", headers={**key(), **sut.hub()},
                                      json={"completed_on": days(-29), "attendees": ["social_worker", "key_worker"],
                                            "findings": "Settled; education restarted.",
                                            "sections": {"education_plan": "Full-time at the local school."}})
    assert completed.status_code == 200, completed.text
    assert completed.json()["plan_version"] == 2
    versions = (await sut.client.get(f"/v1/plans/{issued['id']}/versions", headers=sut.council())).json()["items"]
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[1]["sections"]["education_plan"] == "Full-time at the local school."
    assert versions[0]["sections"]["education_plan"] == SECTIONS["education_plan"]
    council_plan = (await sut.client.get(f"/v1/plans/{issued['id']}", headers=sut.council())).json()
    assert council_plan["current"]["version"] == 2 and council_plan["draft"] is None
    twice = await sut.client.post(f"/v1/reviews/{reviews[0]['id']}/complete", headers=sut.hub(),
                                  json={"completed_on": days(0), "attendees": ["x"], "findings": "again"})
    assert twice.status_code == 409

    # step-down to foster care, then the planned ending
    planned = await sut.client.put(f"/v1/placements/{placement['id']}/step-down", headers=sut.hub(),
                                   json={"destination": "foster_care", "target_date": days(30),
                                         "readiness_notes": "Introductions to carers started"})
    assert planned.status_code == 200 and planned.json()["step_down"]["destination"] == "foster_care"
    wrong_code = await sut.client.post(f"/v1/placements/{placement['id']}/ending", headers=sut.hub(),
                                       json={"end_date": days(0), "ending_type": "step_down",
                                             "destination": "foster_care", "reason_code": "E11"})
    assert wrong_code.status_code == 422 and wrong_code.json()["errors"][0] == {
        "field": "body.reason_code", "rule": "reason_code_for_ending", "message": wrong_code.json()["errors"][0]["message"]}
    ended = await sut.client.post(f"/v1/placements/{placement['id']}/ending", headers={**key(), **sut.hub()},
                                  json={"end_date": days(0), "ending_type": "step_down",
                                        "destination": "foster_care", "reason_code": "X1", "reason_place_change": "CARPL"})
    assert ended.status_code == 200, ended.text
    assert ended.json()["status"] == "ended" and ended.json()["ending"]["planned"]
    second = await sut.client.post(f"/v1/placements/{placement['id']}/ending", headers=sut.hub(),
                                   json={"end_date": days(0), "ending_type": "breakdown", "reason_code": "X1",
                                         "reason_place_change": "CREQB"})
    assert second.status_code == 409 and second.json()["allowed_moves"] == []

    async def freed():  # vacant again, and the home's Pathway Bed
        beds = (await sut.client.get(f"/v1/homes/{home['id']}/beds", headers=provider)).json()["items"]
        bed = next(b for b in beds if b["id"] == placement["bed_id"])
        return beds if bed["state"] == "vacant" else None
    assert [(b["id"], b["is_pathway"]) for b in await wait_for(freed)] == [(placement["bed_id"], True)]
    # the council's statutory reviews are shown alongside
    final = (await sut.client.get(f"/v1/placements/{placement['id']}", headers=sut.council())).json()
    assert len(final["statutory_reviews"]) == 4 and final["statutory_reviews"][0] > days(-120)
