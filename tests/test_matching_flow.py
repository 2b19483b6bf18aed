"""Matching end to end through the gateway, on both transports: onboard a home, go live, refer,
rank, accept; the Pathway Bed is reserved; an arrival and an ending move the beds."""
from __future__ import annotations

import uuid

from libs.common.events.catalogue import PhaseTransitioned, PlacementEnded, PlacementStarted
from services.matching.domain.beds import ONBOARDING_CHECKLIST

from .support import wait_for
from .support.matching import PROVIDER_SCOPES, today, home_body, onboard_live_home, ranked, refer



async def test_onboard_go_live_refer_rank_accept_reserves_the_pathway_bed(sut):
    provider = sut.hub("provider_admin", scopes=PROVIDER_SCOPES)
    created = await sut.client.post("/v1/homes", json=home_body("SC100001"), headers=provider)
    assert created.status_code == 201, created.text
    home = created.json()
    assert home["status"] == "onboarding" and len(home["beds"]) == 3
    assert not any(b["is_pathway"] for b in home["beds"])
    early = await sut.client.post(f"/v1/homes/{home['id']}/go-live", headers=provider)
    assert early.status_code == 409 and early.headers["content-type"] == "application/problem+json"
    assert set(early.json()["missing_items"]) == set(ONBOARDING_CHECKLIST)
    retried = await sut.client.post("/v1/homes", json=home_body("SC100001"), headers=provider)
    assert retried.status_code == 200 and retried.json()["id"] == home["id"]
    duplicate = await sut.client.post("/v1/homes", json=home_body("SC100001", name="Another"), headers=provider)
    assert duplicate.status_code == 409
    for item in ONBOARDING_CHECKLIST:
        r = await sut.client.put(f"/v1/homes/{home['id']}/checklist/{item}", json={"done": True}, headers=provider)
        confirmed = next(i for i in r.json()["checklist"] if i["item"] == item)
        assert confirmed["done"] and confirmed["confirmed_by"] == "hub-provider_admin" and confirmed["confirmed_at"]
    live = (await sut.client.post(f"/v1/homes/{home['id']}/go-live", headers=provider)).json()
    assert live["status"] == "live" and live["matchable"]
    assert [b["label"] for b in live["beds"] if b["is_pathway"]] == ["Bed 1"]

    referral_id = await refer(sut)
    assert (await sut.client.get(f"/v1/referrals/{referral_id}/matches",
                                 headers=sut.council("E10000018"))).status_code == 403
    ranking = await ranked(sut, referral_id)
    assert ranking["homes_ranked"] == 1 and ranking["rules_version"] == "impact-rules/2"
    (option,) = ranking["options"]
    assert option["home_id"] == home["id"] and option["rating"] == "low"
    assert {t["term"] for t in option["terms"]} >= {"distance", "specialism", "ofsted", "resident_risks"}
    assert "soft_landing_plan_48_72h" in option["mitigations"]
    again = await sut.client.get(f"/v1/referrals/{referral_id}/matches", headers=sut.hub())
    assert again.content == (await sut.client.get(f"/v1/referrals/{referral_id}/matches", headers=sut.hub())).content

    assert ranking["impact_risk_assessment_id"] == ranking["assessment_id"]  # the deprecated name, same id
    accept = {"referral_id": referral_id, "decision": "accept", "home_id": home["id"],
              "planned_start_date": str(today()), "impact_risk_assessment_id": ranking["impact_risk_assessment_id"]}
    decided = await sut.client.post("/v1/admissions", json=accept, headers={"Idempotency-Key": "acc-1", **sut.hub()})
    assert decided.status_code == 201, decided.text
    admission = decided.json()
    assert admission["decision"] == "accepted" and admission["status"] == "reserved"
    assert admission["impact_risk_assessment_id"] == admission["assessment_id"] == ranking["assessment_id"]
    assert decided.headers["location"] == f"/v1/admissions/{admission['id']}"
    # the same key and request answer the first response again, with the deprecated field name too
    old_name = {**{k: v for k, v in accept.items() if k != "impact_risk_assessment_id"},
                "assessment_id": ranking["assessment_id"]}
    replay = await sut.client.post("/v1/admissions", json=old_name, headers={"Idempotency-Key": "acc-1", **sut.hub()})
    assert replay.status_code == 201 and replay.json() == admission and replay.headers["idempotent-replayed"] == "true"
    reused = await sut.client.post("/v1/admissions", json={**accept, "fee_basis_hint": "blended"},
                                   headers={"Idempotency-Key": "acc-1", **sut.hub()})
    assert reused.status_code == 422 and reused.json()["type"].endswith("/idempotency-key-reused")
    shown = await sut.client.get(f"/v1/admissions/{admission['id']}/impact-risk-assessment", headers=sut.hub())
    assert shown.json()["impact_risk_assessment_id"] == ranking["impact_risk_assessment_id"]
    assert (await sut.client.get(f"/v1/admissions/{admission['id']}/assessment", headers=sut.hub())).content \
        == shown.content
    beds = (await sut.client.get(f"/v1/homes/{home['id']}/beds", headers=provider)).json()["items"]
    reserved = next(b for b in beds if b["id"] == admission["bed_id"])
    assert reserved["state"] == "reserved" and reserved["is_pathway"]
    twice = await sut.client.post("/v1/admissions", json=accept, headers=sut.hub())
    assert twice.status_code == 409

    # the child arrives (the assessment service's event): the bed is occupied, the next bed is the Pathway Bed
    placement_id = uuid.uuid4()
    async with sut.runtime("assessment").uow() as uow:
        await uow.emit(PlacementStarted(placement_id=placement_id, referral_id=uuid.UUID(referral_id),
                                        home_id=uuid.UUID(home["id"]), bed_id=uuid.UUID(admission["bed_id"]),
                                        start_date=today()), subject_id=str(placement_id), la_code="E10000018")
        await uow.commit()

    async def occupied():
        bs = (await sut.client.get(f"/v1/homes/{home['id']}/beds", headers=provider)).json()["items"]
        return bs if any(b["id"] == admission["bed_id"] and b["state"] == "occupied" for b in bs) else None
    beds = await wait_for(occupied)
    assert [b["label"] for b in beds if b["is_pathway"]] == ["Bed 2"]
    residents = (await sut.client.get(f"/v1/homes/{home['id']}/residents", headers=provider)).json()["items"]
    assert [(r["referral_id"], r["phase"]) for r in residents] == [(referral_id, "phase_1")]
    assert (await sut.client.get(f"/v1/homes/{home['id']}/residents", headers=sut.council())).status_code == 403

    # a second referral: the home has a child in Phase 1, so it is excluded until Phase 2
    second = await refer(sut, la_code="E06000016")
    blocked = await ranked(sut, second)
    assert blocked["options"] == [] and blocked["excluded"]["phase_1_limit"] == 1
    async with sut.runtime("assessment").uow() as uow:
        await uow.emit(PhaseTransitioned(placement_id=placement_id, from_phase="phase_1", to_phase="phase_2",
                                         effective_date=today()), subject_id=str(placement_id), la_code="E10000018")
        await uow.emit(PlacementEnded(placement_id=placement_id, home_id=uuid.UUID(home["id"]),
                                      bed_id=uuid.UUID(admission["bed_id"]), end_date=today(), planned=True,
                                      ending_type="step_down"), subject_id=str(placement_id), la_code="E10000018")
        await uow.commit()

    async def ended():
        bs = (await sut.client.get(f"/v1/homes/{home['id']}/beds", headers=provider)).json()["items"]
        return bs if all(b["state"] == "vacant" for b in bs) else None
    beds = await wait_for(ended)
    assert sum(b["is_pathway"] for b in beds) == 1
    assert (await ranked(sut, second))["homes_ranked"] == 1


async def test_a_suspended_or_inadequate_home_leaves_matching_at_once_and_returns_on_reinstatement(sut):
    provider = sut.hub("provider_admin", scopes=PROVIDER_SCOPES)
    home = await onboard_live_home(sut, "SC100002")
    referral_id = await refer(sut)
    assert (await ranked(sut, referral_id))["homes_ranked"] == 1
    await sut.client.post(f"/v1/homes/{home['id']}/suspend", json={"reason": "Ofsted notice"}, headers=provider)
    assert (await ranked(sut, referral_id))["excluded"]["not_matchable"] == 1
    await sut.client.post(f"/v1/homes/{home['id']}/reinstate", json={}, headers=provider)
    assert (await ranked(sut, referral_id))["homes_ranked"] == 1

    current = await sut.client.get(f"/v1/homes/{home['id']}", headers=provider)
    missing = await sut.client.patch(f"/v1/homes/{home['id']}", json={"ofsted_rating": "inadequate"}, headers=provider)
    assert missing.status_code == 428 and missing.json()["type"].endswith("/if-match-required")
    stale = await sut.client.patch(f"/v1/homes/{home['id']}", json={"ofsted_rating": "inadequate"},
                                   headers={"If-Match": '"1"', **provider})
    assert stale.status_code == 412 and stale.json()["type"].endswith("/stale-etag")
    assert stale.headers["etag"] == stale.json()["current_etag"] == current.headers["etag"]
    malformed = await sut.client.patch(f"/v1/homes/{home['id']}", json={"ofsted_rating": "inadequate"},
                                       headers={"If-Match": "1", **provider})
    assert malformed.status_code == 400 and malformed.json()["type"].endswith("/if-match-invalid")
    ages = await sut.client.patch(f"/v1/homes/{home['id']}", json={"age_min": 18},
                                  headers={"If-Match": current.headers["etag"], **provider})
    assert ages.status_code == 422 and ages.json()["type"].endswith("/validation-error")
    assert ages.json()["errors"] == [{"field": "body.age_min", "rule": "age_range",
                                      "message": "age_min must not exceed age_max"}]
    changed = await sut.client.patch(f"/v1/homes/{home['id']}", json={"ofsted_rating": "inadequate"},
                                     headers={"If-Match": current.headers["etag"], **provider})
    assert changed.status_code == 200 and not changed.json()["matchable"]
    assert (await ranked(sut, referral_id))["excluded"]["not_matchable"] == 1

    bad = await sut.client.post("/v1/homes", json=home_body("XY12"), headers=provider)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.urn"
    # every collection a client sends is bounded
    for field, value in (("specialisms", [f"s{i}" for i in range(21)]), ("sexes", ["female"] * 3),
                         ("categories", ["mental_disorders"] * 7)):
        too_many = await sut.client.post("/v1/homes", json=home_body("SC100008", **{field: value}), headers=provider)
        assert too_many.status_code == 422 and too_many.json()["errors"][0]["field"] == f"body.{field}", too_many.text
    manager = {"Authorization": "Bearer " + sut.token(client_id="manager", role="home_manager", scopes=["homes:read"],
                                                      homes=[home["id"]])}
    assert (await sut.client.get(f"/v1/homes/{home['id']}", headers=manager)).status_code == 200
    other = await onboard_live_home(sut, "SC100003")
    assert (await sut.client.get(f"/v1/homes/{other['id']}", headers=manager)).status_code == 404
    assert [h["id"] for h in (await sut.client.get("/v1/homes", headers=manager)).json()["items"]] == [home["id"]]
    assert (await sut.client.post("/v1/homes", json=home_body("SC100009"), headers=manager)).status_code == 403


async def test_a_decline_carries_a_coded_reason(sut):
    await onboard_live_home(sut, "SC100004")
    referral_id = await refer(sut)
    await ranked(sut, referral_id)
    bad = await sut.client.post("/v1/admissions", json={"referral_id": referral_id, "decision": "decline",
                                                        "reason_code": "other"}, headers=sut.hub())
    assert bad.status_code == 422
    declined = await sut.client.post("/v1/admissions", json={"referral_id": referral_id, "decision": "decline",
                                                             "reason_code": "staffing"}, headers=sut.hub())
    assert declined.status_code == 201, declined.text
    assert declined.json()["decision"] == "declined" and declined.json()["reason_code"] == "staffing"
    council = await sut.client.post("/v1/admissions", json={"referral_id": referral_id, "decision": "decline",
                                                            "reason_code": "staffing"}, headers=sut.council())
    assert council.status_code == 403
