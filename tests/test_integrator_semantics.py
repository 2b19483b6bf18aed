"""Issue 17, the services' half: a council integration cannot misread where its child is.

- viewing a referral's matches changes nothing; recording the assessment (POST) is what moves the referral,
  and every status change emits exactly one referral.status_changed with the old and new status;
- an accepted referral links to its admission and placement, placements filter by referral and link back;
- a council reads the home its child lives in, and nothing about children who are not its own;
- vocabularies for homes, names beside ids and codes, scores explained, exclusions naming the need;
- an onboarding home can be withdrawn, and its admin sees why it is not offered.
"""
from __future__ import annotations

from services.matching.domain.beds import ONBOARDING_CHECKLIST

from .support import wait_for
from .support.matching import PROVIDER_SCOPES, today, home_body, onboard_live_home, ranked, refer
from .support.referrals import events_of

LEICS, LINCS = "E10000018", "E10000019"


async def _referral(sut, referral_id: str, la: str = LEICS) -> dict:
    r = await sut.client.get(f"/v1/referrals/{referral_id}", headers=sut.council(la))
    assert r.status_code == 200, r.text
    return r.json()


async def _status_events(sut, referral_id: str) -> list[tuple]:
    return [(e["payload"]["from_status"], e["payload"]["to_status"]) for e in await events_of(sut)
            if e["type"] == "referral.status_changed" and e["payload"]["referral_id"] == referral_id]


async def _accept(sut, referral_id: str, home_id: str) -> dict:
    r = await sut.client.post("/v1/admissions", headers=sut.hub(), json={
        "referral_id": referral_id, "decision": "accept", "home_id": home_id, "planned_start_date": str(today())})
    assert r.status_code == 201, r.text
    return r.json()


async def test_viewing_matches_changes_nothing_and_each_status_change_emits_one_event(sut):
    home = await onboard_live_home(sut, "SC170001")
    referral_id = await refer(sut)
    shown = await ranked(sut, referral_id)
    for _ in range(3):
        assert (await sut.client.get(f"/v1/referrals/{referral_id}/matches", headers=sut.hub())).status_code == 200
    before = await _referral(sut, referral_id)
    assert before["status"] == "received" and before["version"] == 1
    assert not [e for e in await events_of(sut, "matching") if e["type"] == "impact_risk.assessed"]

    # the hub records what it has seen: announced once, and the referral moves on
    council_try = await sut.client.post(f"/v1/referrals/{referral_id}/matches", headers=sut.council(), json={})
    assert council_try.status_code == 403
    recorded = await sut.client.post(f"/v1/referrals/{referral_id}/matches", headers=sut.hub(),
                                     json={"impact_risk_assessment_id": shown["impact_risk_assessment_id"]})
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["impact_risk_assessment_id"] == shown["impact_risk_assessment_id"]
    again = await sut.client.post(f"/v1/referrals/{referral_id}/matches", headers=sut.hub(), json={})
    assert again.status_code == 200
    stale = await sut.client.post(f"/v1/referrals/{referral_id}/matches", headers=sut.hub(),
                                  json={"impact_risk_assessment_id": "0" * 64})
    assert stale.status_code == 409 and stale.json()["current_impact_risk_assessment_id"] == shown[
        "impact_risk_assessment_id"]
    assessed = await wait_for(lambda: _in(sut, referral_id, "in_assessment"))
    assert assessed["version"] == 2
    assert [e["type"] for e in await events_of(sut, "matching")].count("impact_risk.assessed") == 1

    admission = await _accept(sut, referral_id, home["id"])
    accepted = await wait_for(lambda: _in(sut, referral_id, "accepted"))
    assert await _status_events(sut, referral_id) == [("received", "in_assessment"), ("in_assessment", "accepted")]
    changed = [e for e in await events_of(sut) if e["type"] == "referral.status_changed"]
    assert changed[0]["payload"]["reason_code"] == "impact_risk_assessed" and changed[0]["la_code"] == LEICS
    assert changed[1]["payload"]["admission_id"] == admission["id"]
    assert changed[1]["payload"]["placement_id"] == accepted["placement_id"]

    # the accepted referral links to its admission and its placement, and the placement links back
    assert accepted["admission_id"] == admission["id"] and accepted["council_name"] == "Leicestershire County Council"
    assert accepted["links"] == {"self": f"/v1/referrals/{referral_id}",
                                 "admission": f"/v1/admissions/{admission['id']}",
                                 "placement": f"/v1/placements/{accepted['placement_id']}",
                                 "intervention": None}

    async def placed():
        r = await sut.client.get("/v1/placements", params={"referral_id": referral_id}, headers=sut.council())
        return r.json()["items"] or None
    [placement] = await wait_for(placed)
    assert placement["id"] == accepted["placement_id"] and placement["admission_id"] == admission["id"]
    assert placement["links"]["referral"] == f"/v1/referrals/{referral_id}"
    assert placement["links"]["home"] == f"/v1/homes/{home['id']}/profile"
    other = await refer(sut, child_ref="LCC-T-2")
    assert (await sut.client.get("/v1/placements", params={"referral_id": other},
                                 headers=sut.council())).json()["items"] == []


async def _in(sut, referral_id: str, status: str) -> dict | None:
    body = await _referral(sut, referral_id)
    return body if body["status"] == status else None


async def test_withdrawal_and_decline_each_emit_one_status_event(sut):
    await onboard_live_home(sut, "SC170002")
    withdrawn = await refer(sut, child_ref="LCC-W-1")
    await ranked(sut, withdrawn)
    r = await sut.client.post(f"/v1/referrals/{withdrawn}/withdraw", json={"reason": "placed_elsewhere"},
                              headers=sut.council())
    assert r.status_code == 200
    declined = await refer(sut, child_ref="LCC-D-1")
    await ranked(sut, declined)
    r = await sut.client.post("/v1/admissions", headers=sut.hub(), json={
        "referral_id": declined, "decision": "decline", "reason_code": "no_vacancy"})
    assert r.status_code == 201, r.text
    await wait_for(lambda: _in(sut, declined, "declined"))
    assert await _status_events(sut, withdrawn) == [("received", "withdrawn")]
    # a decision without a recorded assessment goes straight to it (no in_assessment on the way)
    assert await _status_events(sut, declined) == [("received", "declined")]


async def test_a_council_reads_its_childs_home_and_nothing_about_other_children(sut):
    home = await onboard_live_home(sut, "SC170003", name="Beaumont House",
                                   registered_manager_email="manager@beaumont.example.org",
                                   registered_manager_phone="0116 000 0000")
    elsewhere = await onboard_live_home(sut, "SC170004")
    ours = await refer(sut, child_ref="LCC-H-1")
    theirs = await refer(sut, la_code=LINCS, child_ref="LIN-H-1")
    await ranked(sut, ours)
    await ranked(sut, theirs)
    assert (await sut.client.get(f"/v1/homes/{home['id']}/profile", headers=sut.council())).status_code == 404
    await _accept(sut, ours, home["id"])

    profile = await sut.client.get(f"/v1/homes/{home['id']}/profile", headers=sut.council())
    assert profile.status_code == 200, profile.text
    body = profile.json()
    assert body["name"] == "Beaumont House" and body["urn"] == "SC170003" and body["ofsted_rating"] == "good"
    assert body["address"] and body["postcode"] == "LE4 1AB"
    assert body["registered_manager"] == {"name": "R. Manager", "email": "manager@beaumont.example.org",
                                          "phone": "0116 000 0000"}
    assert not {"beds", "residents", "checklist", "registered_places"} & set(body)
    # another council, and a home where this council has no child: 404, as if the home did not exist
    assert (await sut.client.get(f"/v1/homes/{home['id']}/profile", headers=sut.council(LINCS))).status_code == 404
    assert (await sut.client.get(f"/v1/homes/{elsewhere['id']}/profile", headers=sut.council())).status_code == 404
    # no other home route answers a council at all
    for path in (f"/v1/homes/{home['id']}", f"/v1/homes/{home['id']}/residents", f"/v1/homes/{home['id']}/beds",
                 "/v1/homes"):
        for la in (LEICS, LINCS):
            r = await sut.client.get(path, headers=sut.council(la))
            assert r.status_code in (403, 404), (path, la, r.status_code)
            assert theirs not in r.text and ours not in r.text
    # the hub reads any home's profile
    assert (await sut.client.get(f"/v1/homes/{elsewhere['id']}/profile", headers=sut.hub())).status_code == 200


async def test_vocabularies_names_and_explained_scores(sut):
    provider = sut.hub("provider_admin", scopes=PROVIDER_SCOPES)
    typo = await sut.client.post("/v1/homes", json=home_body("SC170005", specialisms=["complex_mental_heath"]),
                                 headers=provider)
    assert typo.status_code == 422 and typo.json()["errors"][0]["field"].startswith("body.specialisms")
    assert "complex_mental_health" in typo.text  # the allowed values are named
    vocabulary = (await sut.client.get("/v1/referrals/vocabulary", headers=sut.council())).json()
    assert "complex_mental_health" in [t["code"] for t in vocabulary["home_specialisms"]]
    assert "mental_disorders" in [t["code"] for t in vocabulary["registration_categories"]]
    assert vocabulary["councils"][LEICS] == "Leicestershire County Council"
    homes_vocabulary = (await sut.client.get("/v1/homes/vocabulary", headers=provider)).json()
    mental = next(c for c in homes_vocabulary["registration_categories"] if c["code"] == "mental_disorders")
    assert "mental_health" in mental["called_for_by"]

    good = await onboard_live_home(sut, "SC170006", name="Ashby Lodge")
    narrow = await onboard_live_home(sut, "SC170007", name="Narrow House",
                                     categories=["emotional_behavioural_difficulties"])
    referral_id = await refer(sut)
    ranking = await ranked(sut, referral_id)
    assert ranking["score_direction"] == "lower_is_better" and ranking["score_range"]["max"] is None
    assert "lower is better" in ranking["score_explained"].lower()
    [option] = ranking["options"]
    assert option["home_id"] == good["id"] and option["home_name"] == "Ashby Lodge"
    assert "aged none" not in str(option["terms"])
    assert next(t for t in option["terms"] if t["term"] == "group_make_up")["reason"] == "no current residents"
    [excluded] = ranking["exclusions"]
    assert excluded["home_id"] == narrow["id"] and excluded["home_name"] == "Narrow House"
    assert excluded["limit"] == "needs_beyond_registration" and excluded["needs"] == ["mental_health"]
    assert "mental_health" in excluded["detail"] and excluded["categories"] == ["mental_disorders"]


async def test_an_onboarding_home_shows_why_it_is_not_offered_and_can_be_withdrawn(sut):
    provider = sut.hub("provider_admin", scopes=PROVIDER_SCOPES)
    home = (await sut.client.post("/v1/homes", json=home_body("SC170008"), headers=provider)).json()
    assert not home["matchable"]
    assert [n["reason"] for n in home["not_offered_because"]] == ["onboarding", "checklist_incomplete"]
    wrong = await sut.client.put(f"/v1/homes/{home['id']}/checklist/registration_checked", json={"done": True},
                                 headers=provider)
    assert wrong.status_code == 422 and all(item in wrong.text for item in ONBOARDING_CHECKLIST)

    path = f"/v1/homes/{home['id']}"
    assert (await sut.client.delete(path, headers=provider)).status_code == 428
    assert (await sut.client.delete(path, headers={**provider, "If-Match": '"9"'})).status_code == 412
    assert (await sut.client.delete(path, headers=sut.council())).status_code == 403
    gone = await sut.client.delete(path, headers={**provider, "If-Match": '"1"'})
    assert gone.status_code == 204 and gone.content == b""
    assert (await sut.client.get(path, headers=provider)).status_code == 404
    again = await sut.client.post("/v1/homes", json=home_body("SC170008"), headers=provider)
    assert again.status_code == 201  # the URN is free again

    live = await onboard_live_home(sut, "SC170009")
    assert live["matchable"] and live["not_offered_because"] == []
    refused = await sut.client.delete(f"/v1/homes/{live['id']}", headers={**provider, "If-Match": f'"{live["version"]}"'})
    assert refused.status_code == 409 and "suspend" in refused.text
