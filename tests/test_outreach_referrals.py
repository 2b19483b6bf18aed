"""Outreach referrals and the matching of outreach teams (issue 16), end to end through the gateway on both
transports: a council refers a child living with a foster carer for outreach; matching ranks the hub's teams
(a team at its caseload limit or out of reach is not offered, and says why); the hub accepts for a team and the
referral is accepted (outreach.accepted); another council cannot see it; a step-down's outreach handoff opens
an outreach referral for the child once, however often the event arrives."""
from __future__ import annotations

import asyncio
import re
import uuid
from datetime import timedelta

import pytest

from itp.seed import seed_demo

from libs.common.events.catalogue import InterventionClosed, OutreachHandoff, PlacementEnded

from .support import Receiver, wait_for
from .support.assessment import admit, new_home
from .support.outreach import (LEICESTER, LEICS, today, accept_outreach, create_team, emit_as, handled, key,
                               team_body,
                               outreach_body, ranked_teams, refer_outreach, referral_status)
from .support.referrals import events_of


async def test_a_child_with_a_foster_carer_is_referred_ranked_against_teams_and_accepted(sut):
    # three teams: one near with the right specialism, one full, one too far away (Norwich, 20 miles reach)
    near = await create_team(sut, caseload_limit=2)
    full = await create_team(sut, caseload_limit=1, specialisms=["child_sexual_exploitation"])
    far = await create_team(sut, base_postcode_district="NR1", reach_miles=20, specialisms=[])
    other = await create_team(sut, base_postcode_district="LE11", specialisms=["neurodiversity"])
    # the full team takes one child first (its only place)
    first = await refer_outreach(sut)
    await accept_outreach(sut, first, full["id"])

    referral_id = await refer_outreach(sut, summary="Foster carer has given notice.")
    made = await sut.client.get(f"/v1/referrals/{referral_id}", headers=sut.council(LEICS))
    assert made.json()["kind"] == "outreach" and made.json()["current_setting"] == "foster_care"
    assert made.json()["at_risk"] == ["placement_breakdown", "school_place"] and made.json()["placement_id"] is None

    ranking = await ranked_teams(sut, referral_id)
    offered = [o["team_id"] for o in ranking["options"]]
    assert offered[0] == near["id"] and other["id"] in offered      # the specialism fit ranks the near team first
    assert full["id"] not in offered and far["id"] not in offered
    assert ranking["excluded"]["caseload_full"] == 1 and ranking["excluded"]["outside_reach"] == 1
    why = {e["team_id"]: e for e in ranking["exclusions"]}
    assert why[full["id"]]["limit"] == "caseload_full" and "1 of 1" in why[full["id"]]["detail"]
    assert why[far["id"]]["limit"] == "outside_reach" and "reach is 20 miles" in why[far["id"]]["detail"]
    top = ranking["options"][0]
    assert {t["term"] for t in top["terms"]} == {"capacity", "distance", "specialism"}
    assert "child_sexual_exploitation serves sexual_exploitation_risk" in next(
        t["reason"] for t in top["terms"] if t["term"] == "specialism")
    assert (await sut.client.get(f"/v1/referrals/{referral_id}/matches",
                                 headers=sut.council(LEICS))).status_code == 403

    # the hub's veto: the full team is refused, naming the decline reason to use
    refused = await sut.client.post("/v1/admissions", headers={**key(), **sut.hub()}, json={
        "referral_id": referral_id, "decision": "accept", "team_id": full["id"], "planned_start_date": str(today())})
    assert refused.status_code == 409 and refused.json()["hard_limit"] == "caseload_full"
    assert "no_team_capacity" in refused.json()["allowed"][0]
    as_bed = await sut.client.post("/v1/admissions", headers={**key(), **sut.hub()}, json={
        "referral_id": referral_id, "decision": "accept", "home_id": str(uuid.uuid4()),
        "planned_start_date": str(today())})
    assert as_bed.status_code == 422 and as_bed.json()["errors"][0]["field"] == "body.team_id"

    decision = await accept_outreach(sut, referral_id, near["id"])
    assert decision["team_id"] == near["id"] and decision["outreach_basis"] == "fixed_fee"
    assert decision["planned_weeks"] == 6 and decision["home_id"] is None
    accepted = await referral_status(sut, referral_id, "accepted")
    assert accepted["admission_id"] == decision["id"] and accepted["links"]["placement"] is None
    intervention = accepted["links"]["intervention"]  # assessment makes it from outreach.accepted
    assert intervention == f"/v1/interventions/{accepted['intervention_id']}"

    async def made():
        return (await sut.client.get(intervention, headers=sut.council(LEICS))).status_code == 200
    await wait_for(made)
    sent = [e for e in await events_of(sut, "matching") if e["type"] == "outreach.accepted"]
    mine = next(e for e in sent if e["payload"]["referral_id"] == referral_id)
    assert mine["payload"]["team_id"] == near["id"] and mine["payload"]["basis"] == "fixed_fee"
    assert mine["payload"]["planned_weeks"] == 6 and mine["la_code"] == LEICS
    assert "Foster" not in str(mine) and "Sam Patel" not in str(mine)
    team = (await sut.client.get(f"/v1/outreach-teams/{near['id']}", headers=sut.hub())).json()
    assert team["caseload"] == 1 and team["capacity_left"] == 1

    # another council sees nothing of it; its own council sees its status only (no ranking, no decision)
    assert (await sut.client.get(f"/v1/referrals/{referral_id}", headers=sut.council(LEICESTER))).status_code == 404
    listed = (await sut.client.get("/v1/referrals", params={"kind": "outreach"},
                                   headers=sut.council(LEICESTER))).json()["items"]
    assert referral_id not in [r["id"] for r in listed]
    assert (await sut.client.get(f"/v1/admissions/{decision['id']}", headers=sut.council(LEICS))).status_code == 403

    # the intervention closing (assessment's event) gives the full team its place back: it is offered again
    event = InterventionClosed(intervention_id=uuid.uuid4(), referral_id=uuid.UUID(first),
                               team_id=uuid.UUID(full["id"]), start_date=today() - timedelta(days=42),
                               end_date=today(), outcome="stabilised", sessions=12)
    sent = await emit_as(sut, "assessment", *[(event, str(event.intervention_id), LEICS)] * 2)  # and a redelivery
    await handled(sut, "matching", sent)
    freed = (await sut.client.get(f"/v1/outreach-teams/{full['id']}", headers=sut.hub())).json()
    assert freed["caseload"] == 0 and freed["capacity_left"] == 1
    again = await ranked_teams(sut, await refer_outreach(sut))
    assert full["id"] in [o["team_id"] for o in again["options"]]


@pytest.mark.parametrize("system_overrides", ["inprocess-sqlite"], indirect=True)
async def test_outreach_fields_belong_to_outreach_referrals(sut):
    council = sut.council(LEICS)
    bed_with_setting = outreach_body(kind="bed")
    r = await sut.client.post("/v1/referrals", json=bed_with_setting, headers={**key(), **council})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0] == {**r.json()["errors"][0], "field": "body.current_setting", "rule": "outreach_only"}
    no_setting = {k: v for k, v in outreach_body().items() if k != "current_setting"}
    r = await sut.client.post("/v1/referrals", json=no_setting, headers={**key(), **council})
    assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "required_for_outreach"
    r = await sut.client.post("/v1/referrals", json=outreach_body(at_risk=["pets"]), headers={**key(), **council})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.at_risk"
    assert (await sut.client.get("/v1/referrals", params={"child_ref": bed_with_setting["child_ref"]},
                                 headers=council)).json()["items"] == []
    # a change keeps to the kind: no outreach field on a bed referral, no outreach referral without its setting
    bed = (await sut.client.post("/v1/referrals", json={k: v for k, v in outreach_body(kind="bed").items()
                                                        if k not in ("current_setting", "at_risk", "outreach_basis")},
                                 headers={**key(), **council})).json()
    r = await sut.client.patch(f"/v1/referrals/{bed['id']}", json={"at_risk": ["school_place"]},
                               headers={**council, "If-Match": '"1"'})
    assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "outreach_only"
    outreach_id = await refer_outreach(sut)
    r = await sut.client.patch(f"/v1/referrals/{outreach_id}", json={"current_setting": None},
                               headers={**council, "If-Match": '"1"'})
    assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "required_for_outreach"
    r = await sut.client.patch(f"/v1/referrals/{outreach_id}", json={"current_setting": "hospital"},
                               headers={**council, "If-Match": '"1"'})
    assert r.status_code == 200 and r.json()["current_setting"] == "hospital" and r.json()["kind"] == "outreach"
    vocabulary = (await sut.client.get("/v1/referrals/vocabulary", headers=council)).json()
    assert "foster_care" in vocabulary["current_settings"]
    assert "placement_breakdown" in [t["code"] for t in vocabulary["at_risk"]]

    # weekly outreach without weeks asked for: the hub must give them
    team = await create_team(sut)
    referral_id = await refer_outreach(sut, outreach_basis="weekly")
    await ranked_teams(sut, referral_id)
    r = await sut.client.post("/v1/admissions", headers={**key(), **sut.hub()}, json={
        "referral_id": referral_id, "decision": "accept", "team_id": team["id"], "planned_start_date": str(today())})
    assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "required_for_weekly"
    decision = await accept_outreach(sut, referral_id, team["id"], planned_weeks=26)
    assert decision["outreach_basis"] == "weekly" and decision["planned_weeks"] == 26


async def test_a_step_down_hands_the_child_to_outreach_once(sut):
    home = await new_home(sut)
    placement = await admit(sut, home, child_ref="LCC-STEP-1")
    referral_id = placement["referral_id"]
    await referral_status(sut, referral_id, "accepted")
    ended = PlacementEnded(placement_id=uuid.UUID(placement["id"]), home_id=uuid.UUID(home["id"]),
                           bed_id=uuid.UUID(placement["bed_id"]), end_date=today(), planned=True,
                           ending_type="step_down", destination="other_residential",
                           outreach_handoff=OutreachHandoff(basis="weekly", planned_weeks=26,
                                                            setting="other_residential", outward_code="NG7"))
    # delivered twice, as two events (a replay of the ending): both handled, one referral opened
    sent = await emit_as(sut, "assessment", *[(ended, placement["id"], LEICS)] * 2)
    await handled(sut, "referral", sent)
    r = await sut.client.get("/v1/referrals", params={"child_ref": "LCC-STEP-1", "kind": "outreach"},
                             headers=sut.council(LEICS))
    (handoff,) = r.json()["items"]
    assert handoff["handoff_from_placement_id"] == placement["id"] and handoff["current_setting"] == "other_residential"
    assert handoff["outreach_basis"] == "weekly" and handoff["outreach_planned_weeks"] == 26
    assert handoff["home_outward_code"] == "NG7" and handoff["status"] == "received"
    referral = (await sut.client.get(f"/v1/referrals/{referral_id}", headers=sut.council(LEICS))).json()
    assert handoff["date_of_birth"] == referral["date_of_birth"] and handoff["la_code"] == LEICS
    received = [e for e in await events_of(sut, "referral")
                if e["type"] == "referral.received" and e["payload"]["child_ref"] == "LCC-STEP-1"]
    assert [e["payload"]["kind"] for e in received] == ["bed", "outreach"]
    assert received[1]["payload"]["handoff_from_placement_id"] == placement["id"]
    team = await create_team(sut, base_postcode_district="NG7")
    ranking = await ranked_teams(sut, handoff["id"])
    assert team["id"] in [o["team_id"] for o in ranking["options"]]
    decision = await accept_outreach(sut, handoff["id"], team["id"])
    assert decision["outreach_basis"] == "weekly" and decision["planned_weeks"] == 26  # the weeks the step-down planned


@pytest.mark.parametrize("system_overrides", ["inprocess-sqlite"], indirect=True)
async def test_the_hub_accepts_an_outreach_referral_on_the_dashboard(sut):
    await seed_demo(**sut.overrides)
    team = await create_team(sut, name="Dashboard outreach team")
    referral_id = await refer_outreach(sut, outreach_basis="weekly", outreach_planned_weeks=12)
    await ranked_teams(sut, referral_id)
    r = await sut.client.get("/dashboard/sign-in")
    csrf = re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)
    await sut.client.post("/dashboard/sign-in", data={"csrf": csrf, "client_id": "demo-hub",
                                                      "client_secret": "demo-hub-secret"})
    queue = await sut.client.get("/dashboard/referrals")
    assert re.search(rf'{referral_id}">[^<]+</a> <span class="badge badge-blue">Outreach', queue.text)
    page = await sut.client.get(f"/dashboard/referrals/{referral_id}")
    assert page.status_code == 200 and "Outreach teams" in page.text
    assert "With a local authority foster carer" in page.text   # where the child lives, in the vocabulary's words
    assert "Dashboard outreach team" in page.text and f'value="{team["id"]}"' in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    iraid = re.search(r'name="iraid" value="([^"]+)"', page.text).group(1)
    for typed in ("abc", "0"):  # what the hub typed reaches the API and is refused, never silently dropped
        refused = await sut.client.post(f"/dashboard/referrals/{referral_id}/decision", data={
            "csrf": csrf, "decision": "accept", "team_id": team["id"], "iraid": iraid, "outreach_basis": "weekly",
            "planned_start_date": str(today()), "planned_weeks": typed})
        assert refused.status_code == 303 and "error=" in refused.headers["location"], refused.headers
    decided = await sut.client.post(f"/dashboard/referrals/{referral_id}/decision", data={
        "csrf": csrf, "decision": "accept", "team_id": team["id"], "iraid": iraid, "outreach_basis": "weekly",
        "planned_start_date": str(today()), "planned_weeks": "12"})
    assert decided.status_code == 303 and decided.headers["location"].endswith("decided=accepted")
    await referral_status(sut, referral_id, "accepted")
    page = await sut.client.get(f"/dashboard/referrals/{referral_id}")
    assert "Accepted for outreach" in page.text and "12 weeks" in page.text


@pytest.mark.parametrize("system_overrides", ["inprocess-sqlite"], indirect=True)
async def test_the_hub_keeps_its_outreach_teams(sut):
    hub = sut.hub()
    bad = await sut.client.post("/v1/outreach-teams", json=team_body(base_postcode_district="ZZ99"), headers=hub)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.base_postcode_district"
    bad = await sut.client.post("/v1/outreach-teams", json=team_body(base_postcode_district="L E 4"), headers=hub)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.base_postcode_district"
    bad = await sut.client.post("/v1/outreach-teams", json=team_body(specialisms=["juggling"]), headers=hub)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].startswith("body.specialisms")
    assert (await sut.client.get("/v1/outreach-teams", headers=sut.council(LEICS))).status_code == 403
    manager = sut.hub("home_manager", scopes=("homes:read",))
    assert (await sut.client.get("/v1/outreach-teams", headers=manager)).status_code == 403
    body = team_body("Charnwood outreach")
    made = await sut.client.post("/v1/outreach-teams", json=body, headers={"Idempotency-Key": "team-1", **hub})
    assert made.status_code == 201 and made.headers["location"] == f"/v1/outreach-teams/{made.json()['id']}"
    replay = await sut.client.post("/v1/outreach-teams", json=body, headers={"Idempotency-Key": "team-1", **hub})
    assert replay.status_code == 201 and replay.headers["idempotent-replayed"] == "true"
    retried = await sut.client.post("/v1/outreach-teams", json=body, headers=hub)  # no key: the same facts
    assert retried.status_code == 200 and retried.json()["id"] == made.json()["id"]
    clash = await sut.client.post("/v1/outreach-teams", json={**body, "reach_miles": 5}, headers=hub)
    assert clash.status_code == 409
    team = made.json()
    assert team["caseload"] == 0 and team["capacity_left"] == 6 and team["not_offered_because"] == []
    url = f"/v1/outreach-teams/{team['id']}"
    read = await sut.client.get(url, headers=hub)
    assert read.headers["etag"] == '"1"'
    assert (await sut.client.patch(url, json={"status": "suspended"}, headers=hub)).status_code == 428
    stale = await sut.client.patch(url, json={"status": "suspended"}, headers={"If-Match": '"7"', **hub})
    assert stale.status_code == 412 and stale.headers["etag"] == '"1"'
    suspended = await sut.client.patch(url, json={"status": "suspended", "caseload_limit": 9},
                                       headers={"If-Match": '"1"', **hub})
    assert suspended.status_code == 200 and suspended.headers["etag"] == '"2"'
    assert suspended.json()["caseload_limit"] == 9
    assert [x["reason"] for x in suspended.json()["not_offered_because"]] == ["team_suspended"]
    listed = (await sut.client.get("/v1/outreach-teams", params={"status": "suspended"}, headers=hub)).json()
    assert [t["id"] for t in listed["items"]] == [team["id"]]
    ranking = await ranked_teams(sut, await refer_outreach(sut))
    assert ranking["excluded"]["team_suspended"] == 1 and ranking["options"] == []
    vocabulary = (await sut.client.get("/v1/outreach-teams/vocabulary", headers=hub)).json()
    assert "sexual_exploitation_risk" in next(t for t in vocabulary["specialisms"]
                                       if t["code"] == "child_sexual_exploitation")["serves"]
    spelt = await sut.client.post("/v1/outreach-teams", headers=hub,  # any case and spacing, or a full postcode
                                  json=team_body("Spelling outreach", base_postcode_district=" le4  6ab "))
    assert spelt.status_code == 201 and spelt.json()["base_postcode_district"] == "LE4"
    moved = await sut.client.patch(f"/v1/outreach-teams/{spelt.json()['id']}", json={"base_postcode_district": "ng7 "},
                                   headers={"If-Match": '"1"', **hub})
    assert moved.status_code == 200 and moved.json()["base_postcode_district"] == "NG7"


@pytest.mark.parametrize("system_overrides", ["kafka-postgres"], indirect=True)
async def test_accepts_racing_for_a_teams_last_place_let_exactly_one_win(sut):
    team = await create_team(sut, caseload_limit=1)
    referrals = [await refer_outreach(sut) for _ in range(4)]
    for r in referrals:
        await ranked_teams(sut, r)
    answers = await asyncio.gather(*(sut.client.post("/v1/admissions", headers=sut.hub(), json={
        "referral_id": r, "decision": "accept", "team_id": team["id"], "planned_start_date": str(today())})
        for r in referrals))
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409], [a.text for a in answers]
    assert all(a.json()["hard_limit"] == "caseload_full" for a in answers if a.status_code == 409)
    after = (await sut.client.get(f"/v1/outreach-teams/{team['id']}", headers=sut.hub())).json()
    assert after["caseload"] == 1 and after["capacity_left"] == 0


@pytest.mark.parametrize("system_overrides", ["inprocess-sqlite"], indirect=True)
async def test_a_councils_webhooks_follow_its_outreach_referral_as_a_beds(make_system):
    sut = await make_system(webhook_allow_http_localhost=True)
    async with Receiver() as rx_a, Receiver() as rx_b:
        for la, rx in ((LEICS, rx_a), (LEICESTER, rx_b)):
            r = await sut.client.post("/v1/webhooks", headers=sut.council(la), json={
                "url": rx.url, "event_types": ["referral.status_changed", "outreach.accepted"]})
            assert r.status_code == 201, r.text
        team = await create_team(sut)
        referral_id = await refer_outreach(sut)
        await accept_outreach(sut, referral_id, team["id"])
        await wait_for(lambda: len(rx_a.received) >= 2, timeout=30)
        by_type = {r.event["type"]: r.event["data"] for r in rx_a.received}
        assert by_type["outreach.accepted"]["referral_id"] == referral_id
        assert by_type["referral.status_changed"]["to_status"] == "accepted"
        assert rx_b.received == []  # another council's endpoint hears nothing of it
