"""Outcomes end to end through the gateway, on both transports: two children of two councils through the
pathway (referred, ranked, accepted, arrived), a third referral declined; measures recorded at each point
and scored by the SDQ rules; the child's progress against the baseline; measure deadlines sent once; the
cohort report and the sufficiency report (JSON and CSV) show the right figures, and council B sees none of
council A's children in either; outcome.recorded carries codes and numbers, never a name or free text."""
from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import timedelta

from services.outcomes.scheduled import measure_deadlines

from .support import wait_for
from .support.assessment import today, admit, arrive, issue_plan, key, new_home
from .support.matching import ranked, refer
from .support.outcomes import known_to_outcomes, record, sdq_items
from .support.referrals import events_of

A, B = "E10000018", "E06000016"


async def test_two_children_through_the_pathway_with_measures_cohorts_and_sufficiency(sut):
    # the stateless scoring call, as the issue specifies it
    scored = await sut.client.post("/v1/outcomes/sdq/score", headers=sut.council(A),
                                   json={"informant": "parent", "items": sdq_items(17)})
    assert scored.status_code == 200, scored.text
    assert scored.json() == {"scales": {"emotional": 10, "conduct": 7, "hyperactivity": 0, "peer": 0,
                                        "prosocial": 5},
                             "total_difficulties": 17, "externalising": 7, "internalising": 10, "band": "high"}
    bad = await sut.client.post("/v1/outcomes/sdq/score", headers=sut.council(A),
                                json={"informant": "parent", "items": {**sdq_items(3), "4": 5}})
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    assert (bad.json()["errors"][0]["field"], bad.json()["errors"][0]["rule"]) == ("body.items.4", "sdq_item_value")

    home_a, home_b = await new_home(sut), await new_home(sut)
    pa = await admit(sut, home_a, la_code=A)
    pb = await admit(sut, home_b, la_code=B)
    await arrive(sut, pa, days_ago=120)
    await arrive(sut, pb, days_ago=100)
    declined_ref = await refer(sut, la_code=A)
    ranking = await ranked(sut, declined_ref)
    r = await sut.client.post("/v1/admissions", headers={**key(), **sut.hub()},
                              json={"referral_id": declined_ref, "decision": "decline", "reason_code": "no_vacancy",
                                    "assessment_id": ranking["assessment_id"]})
    assert r.status_code == 201, r.text

    view_a = await known_to_outcomes(sut, pa["id"])
    assert [(p["timepoint"], p["state"]) for p in view_a["points"]] == [
        ("baseline", "overdue"), ("day_28", "overdue"), ("day_90", "overdue"), ("six_monthly_1", "upcoming")]
    await known_to_outcomes(sut, pb["id"])

    # measures at each point; bad input names the field and the rule and stores nothing
    r = await sut.client.post(f"/v1/outcomes/placements/{pa['id']}/measures", headers=sut.hub(),
                              json={"timepoint": "baseline", "recorded_on": str(today()), "stability": {"incidents": -1}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.stability.incidents"
    r = await sut.client.post(f"/v1/outcomes/placements/{pa['id']}/measures", headers=sut.hub(),
                              json={"timepoint": "day_40", "recorded_on": str(today()), "stability": {"incidents": 1}})
    assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "timepoint"
    full = dict(education={"attendance_percent": 40.0, "provision_type": "alternative_provision",
                           "ehcp_status": "assessment", "exclusions": 2},
                health={"gp_registered": False, "dentist_registered": False, "camhs_engaged": False,
                        "health_assessment_up_to_date": False},
                stability={"missing_episodes": 4, "police_callouts": 3, "incidents": 6, "placement_moves": 2})
    await record(sut, pa["id"], "baseline", 115, total=22, **full)
    again = await sut.client.post(f"/v1/outcomes/placements/{pa['id']}/measures", headers=sut.hub(), json={
        "timepoint": "baseline", "recorded_on": str(today()), "sdq": {"informant": "parent", "items": sdq_items(1)}})
    assert again.status_code == 409
    await record(sut, pa["id"], "day_28", 93, total=19, **full)
    better = dict(education={"attendance_percent": 92.5, "provision_type": "mainstream", "ehcp_status": "in_place",
                             "exclusions": 0},
                  health={"gp_registered": True, "dentist_registered": True, "camhs_engaged": True,
                          "health_assessment_up_to_date": True},
                  stability={"missing_episodes": 0, "police_callouts": 0, "incidents": 1, "placement_moves": 0})
    view_a = await record(sut, pa["id"], "day_90", 31, total=14, **better)
    assert [(p["timepoint"], p["state"]) for p in view_a["points"]][:3] == [
        ("baseline", "met"), ("day_28", "met"), ("day_90", "met")]
    prog = view_a["progress"]
    assert prog["sdq_total"] == {"baseline": 22, "latest": 14, "latest_timepoint": "day_90", "change": -8,
                                 "reading": "better"}
    assert prog["education.attendance_percent"]["reading"] == "better"
    assert prog["health.gp_registered"]["reading"] == "better"
    assert prog["stability.missing_episodes"] == {"baseline": 4, "latest": 0, "latest_timepoint": "day_90",
                                                  "change": -4, "reading": "better"}
    await record(sut, pb["id"], "baseline", 99, total=18, **full)
    await record(sut, pb["id"], "day_28", 72, total=20, stability=full["stability"])   # worse; day_28 partly

    # a council reads its own child's outcomes, never another's
    assert (await sut.client.get(f"/v1/outcomes/placements/{pa['id']}", headers=sut.council(A))).status_code == 200
    assert (await sut.client.get(f"/v1/outcomes/placements/{pa['id']}", headers=sut.council(B))).status_code == 404
    assert (await sut.client.post(f"/v1/outcomes/placements/{pa['id']}/measures", headers=sut.council(A),
                                  json={"timepoint": "baseline", "recorded_on": str(today()),
                                        "health": {"gp_registered": True}})).status_code == 403
    manager = sut.hub("home_manager", scopes=("outcomes:read", "outcomes:write"))
    assert (await sut.client.get(f"/v1/outcomes/placements/{pa['id']}", headers=manager)).status_code == 404
    mine = {"Authorization": f"Bearer {sut.token(client_id='hub-manager-a', role='home_manager', homes=[home_a['id']], scopes=('outcomes:read',))}"}
    assert (await sut.client.get(f"/v1/outcomes/placements/{pa['id']}", headers=mine)).status_code == 200

    # deadlines: B's day_28 misses education and health, its day_90 nothing recorded: missed, sent once
    runtime = sut.runtime("outcomes")
    first = await measure_deadlines(runtime, today())
    assert f"{pb['id']}:measure:day_28" in first["missed"] and f"{pb['id']}:measure:day_90" in first["missed"]
    assert not any(k.startswith(pa["id"]) for k in first["missed"])
    assert await measure_deadlines(runtime, today()) == {"due_soon": [], "missed": []}

    # A's child moves to Phase 2 at day 29, then steps down to foster care today: a planned ending
    await issue_plan(sut, pa)
    moved = await sut.client.post(f"/v1/placements/{pa['id']}/phase-2", headers={**key(), **sut.hub()},
                                  json={"effective_date": str(today() - timedelta(days=92)), "reason": "IPP agreed"})
    assert moved.status_code == 200, moved.text
    ended = await sut.client.post(f"/v1/placements/{pa['id']}/ending", headers={**key(), **sut.hub()},
                                  json={"end_date": str(today()), "ending_type": "step_down",
                                        "destination": "foster_care", "reason_code": "X1", "reason_place_change": "CARPL"})
    assert ended.status_code == 200, ended.text

    async def ended_known():
        v = await known_to_outcomes(sut, pa["id"])
        return v if v["end_date"] else None
    view_a = await wait_for(ended_known)
    assert view_a["points"][-1]["timepoint"] == "ending"

    # the cohort report: by council for the hub; council A sees only its own, council B none of A's
    window = {"from": str(today() - timedelta(days=200)), "to": str(today())}
    hub_report = (await sut.client.get("/v1/outcomes/cohorts", params={**window, "by": "council"},
                                       headers=sut.hub())).json()
    groups = {g["group"]: g for g in hub_report["groups"]}
    assert set(groups) == {A, B}
    assert groups[A]["sdq"] == {"with_baseline_and_follow_up": 1, "mean_change_total_difficulties": "-8.00",
                                "share_improved": "1.000"}
    assert groups[B]["sdq"] == {"with_baseline_and_follow_up": 1, "mean_change_total_difficulties": "2.00",
                                "share_improved": "0.000"}
    assert groups[A]["step_downs"]["count"] == 1 and groups[A]["step_downs"]["3_months"]["pending"] == 1
    assert groups[A]["breakdown_rate"] == "0.000" and groups[A]["stability"]["placements_ended"] == 1
    assert hub_report["all"]["sdq"]["mean_change_total_difficulties"] == "-3.00"
    as_b = await sut.client.get("/v1/outcomes/cohorts", params={**window, "by": "council", "la_code": A},
                                headers=sut.council(B))
    assert [g["group"] for g in as_b.json()["groups"]] == [B]
    assert pa["referral_id"] not in as_b.text and home_a["id"] not in as_b.text
    by_home = (await sut.client.get("/v1/outcomes/cohorts", params={**window, "by": "home"},
                                    headers=sut.council(A))).json()
    assert [g["group"] for g in by_home["groups"]] == [home_a["id"]]

    # the sufficiency report: the hub sees both councils; each council only itself
    async def declines_known():
        r = (await sut.client.get("/v1/reports/sufficiency", params=window, headers=sut.hub())).json()
        return r if r["decisions"]["declined"] == 1 and r["placements_made"]["total"] == 2 else None
    report = await wait_for(declines_known)
    assert report["referrals"]["by_council"] == {B: 1, A: 2}
    assert report["referrals"]["by_need"] == {"mental_health": 3}
    assert report["placements_made"]["by_council"] == {B: 1, A: 1}
    assert report["decisions"]["declines_by_reason"]["no_vacancy"] == 1 and report["decisions"]["accepted"] == 2
    assert report["days_to_decision"]["n"] == 3 and report["days_to_admission"]["n"] == 2
    # both homes are in LE4, Leicester City's district: council B's (Leicester) child is in its own council,
    # council A's (Leicestershire) child is placed outside its own council
    dist = report["distance_from_home"]
    assert dist["n"] == 2 and (dist["placed_outside_own_area"], dist["area_known"]) == (1, 2)
    assert dist["share_outside_own_area"] == "0.500"
    assert report["occupancy"]["bed_nights"] == 120 + 101 and report["occupancy"]["registered_places"] >= 6
    mine_a = (await sut.client.get("/v1/reports/sufficiency", params=window, headers=sut.council(A))).json()
    assert mine_a["referrals"]["by_council"] == {A: 2} and mine_a["occupancy"]["registered_places"] is None
    mine_b = await sut.client.get("/v1/reports/sufficiency", params={**window, "la_code": A}, headers=sut.council(B))
    assert mine_b.json()["referrals"]["by_council"] == {B: 1} and A not in mine_b.text
    assert mine_b.json()["decisions"]["declined"] == 0
    as_csv = await sut.client.get("/v1/reports/sufficiency", params={**window, "format": "csv"}, headers=sut.hub())
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = {r["figure"]: r["value"] for r in csv.DictReader(io.StringIO(as_csv.text))}
    assert rows[f"referrals.by_council.{A}"] == "2" and rows["decisions.declines_by_reason.no_vacancy"] == "1"
    bad = await sut.client.get("/v1/reports/sufficiency", params={"from": str(today()), "to": str(today() - timedelta(1))},
                               headers=sut.hub())
    assert bad.status_code == 422 and bad.json()["errors"][0]["rule"] == "end_not_before_start"

    # the child's actual journey (from the fees billing applied): A's own, not B's
    j = await sut.client.get(f"/v1/journeys/placements/{pa['id']}", headers=sut.council(A))
    assert j.status_code == 200 and j.json()["referral_id"] == pa["referral_id"]
    assert (await sut.client.get(f"/v1/journeys/placements/{pa['id']}", headers=sut.council(B))).status_code == 404

    # outcome.recorded: one per measure, codes and numbers only
    emitted = [e for e in await events_of(sut, "outcomes") if e["type"] == "outcome.recorded"]
    assert emitted and {e["la_code"] for e in emitted} == {A, B}
    sdq_totals = sorted(e["payload"]["value"] for e in emitted if e["payload"]["measure"] == "sdq_total")
    assert sdq_totals == [14, 18, 19, 20, 22]
    text = json.dumps(emitted)
    assert "LCC-T-1" not in text and "Sam Patel" not in text
    notices = [e for e in await events_of(sut, "outcomes") if e["type"] == "deadline.missed"]
    assert {n["payload"]["kind"] for n in notices} == {"measure"}
    assert len(notices) == len({n["payload"]["deadline_key"] for n in notices})
    uuid.UUID(emitted[0]["payload"]["outcome_id"])
