"""The Placements Data Standard v2 in (issue 12): a council's placement request in the standard's own field names and
options, through the gateway, stored and read back field for field (tenancy and the access log as for any referral);
matching keeps its MUST fields (a child who cannot live with pets is never offered a home with a dog, a child who must
live alone never a home for several children, each exclusion explained); a bad option is a problem naming the field,
the value and the allowed values, with nothing stored."""
from __future__ import annotations

import random
import uuid

from .support import wait_for
from .support.matching import onboard_live_home, referral_body
from .support.referrals import LEICESTER, LEICS, events_of

# Each categorical field's options, as the standard publishes them (its field names and option strings are the facts
# a council's system sends; the test states them itself rather than reading the project's mapping back).
OPTIONS = {
    "neededBy": ["Today", "in less than 5 days", "in more than 5 days"],
    "communicationNeeds": ["Y", "N", "Not Specified"],
    "culturalNeeds": ["Required", "Not required", "Not Known", "Other"],
    "livingCompanions": ["Solo placement recommended", "With other children recommended",
                         "Only with other older children", "Only with other younger children", "No preference"],
    "pets": ["Yes - must", "Yes - can", "No", "Not Known"],
    "additionalSupport": ["additional supervision", "therapeutic support", "a worker for respite", "taxis to school",
                          "NA", "other (please specify)"],
    "fosterCareSuitability": ["Preferred", "Suitable but not preferred", "Unsuitable", "Not specified"],
    "residentialCareSuitability": ["Preferred", "Suitable but not preferred", "Unsuitable", "Not specified"],
    "supportedAccommodationSuitability": ["Preferred", "Suitable but not preferred", "Unsuitable", "Not specified"],
    "placementType": ["Residential", "Foster", "Supported Accommodation"],
}
COMMUNICATION = ["ESOL", "BSL", "Makaton", "Other", "None"]
RISKS = ["riskSelfHarm", "riskSexualExploitation", "riskCriminalExploitation", "riskDrugAlcohol", "riskEatingDisorder",
         "riskMissing", "riskToOthersPhysical", "riskToOthersSexual", "riskToOthersFire", "riskToOthersAnimals",
         "riskToOthersCriminal"]


def complete_block(i: int) -> dict:
    """Every one of the standard's 41 fields; request i takes option i of each categorical field (wrapping)."""
    block = {name: options[i % len(options)] for name, options in OPTIONS.items()}
    block.update({
        "childId": 90_000 + i, "siblingCount": i % 2, "preferredLocation": f"Near school {i}",
        "specificCommunicationRequirements": [COMMUNICATION[i % 5], COMMUNICATION[(i + 2) % 5]],
        "homeAdaptation": i % 2 == 0, "deprivationOfLiberty": i % 3 == 0,
        **{risk: "Risk Present" if (i + n) % 2 else "No known risk" for n, risk in enumerate(RISKS)},
        "riskOther": f"Other risk to the child {i}", "riskToOthersOther": f"Other risk to others {i}",
        "totalWeeklyCost": 5200 + i, "placementLocation": "Leicester", "preferabilityLocation": i % 2 == 1,
        "educationContinuity": i % 2 == 0, "providerURN": "SC123456" if i % 2 else "2512345",
        "siblingsPlacedTogether": i % 2, "referralOfficerName": "J. Officer", "referralDate": "2026-11-02",
        "placementOfficerName": "P. Officer", "placementDate": "2026-11-03", "costOfficerName": "C. Officer",
        "costDate": "2026-11-04"})
    return block


def request(block: dict, **ours) -> dict:
    body = referral_body(**ours)
    for field in ("child_ref", "urgency", "risks"):  # the standard block says them
        body.pop(field)
    return {**body, "placements_standard": block}


async def post(sut, body: dict, la: str = LEICS):
    return await sut.client.post("/v1/referrals", json=body,
                                 headers={"Idempotency-Key": uuid.uuid4().hex, **sut.council(la)})


async def test_a_complete_standard_request_is_stored_and_read_back_field_for_field(sut):
    blocks = [complete_block(i) for i in range(6)]  # 6: the most options any categorical field has
    assert all(len(b) == 41 for b in blocks)
    for name, options in OPTIONS.items():
        assert {b[name] for b in blocks} == set(options), name
    assert {c for b in blocks for c in b["specificCommunicationRequirements"]} == set(COMMUNICATION)
    urgency = {"Today": "crisis", "in less than 5 days": "urgent", "in more than 5 days": "planned"}
    ids = []
    for block in blocks:
        created = await post(sut, request(block))
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    for block, referral_id in zip(blocks, ids):
        read = await sut.client.get(f"/v1/referrals/{referral_id}", headers=sut.council(LEICS))
        assert read.status_code == 200, read.text
        r = read.json()
        assert r["placements_standard"] == block  # every field, as sent
        assert r["child_ref"] == str(block["childId"]) and r["urgency"] == urgency[block["neededBy"]]
        present = {RISK_CODES[k] for k in RISKS if block[k] == "Risk Present"}
        assert {x["code"] for x in r["risks"]} == present | {"other_risk_to_child", "other_risk_to_others"}
        assert set(r["no_known_risks"]) == {RISK_CODES[k] for k in RISKS if block[k] == "No known risk"}
        request_ours = r["placement_request"]
        assert request_ours["actual_placement"]["weekly_cost_pence"] == block["totalWeeklyCost"] * 100
        assert request_ours["risk_to_child_other"] == block["riskOther"]
        # another council's system does not see it
        assert (await sut.client.get(f"/v1/referrals/{referral_id}", headers=sut.council(LEICESTER))).status_code == 404

    # the access log holds the reads (and the other council's denial) as for any referral
    rows = (await sut.client.get("/v1/audit/access", params={"child": ids[0]}, headers=sut.hub())).json()["items"]
    assert [r["action"] for r in rows] == ["denied", "read", "create"]

    # the event carries the coded requirements only, never the standard's free text
    events = [e for e in await events_of(sut) if e["type"] == "referral.received" and e["subject_id"] == ids[0]]
    payload = events[0]["payload"]
    assert payload["placement_requirements"]["living_companions"] == "solo"
    assert payload["placement_requirements"]["pets"] == "must_live_with_pets"
    assert "Near school" not in str(events) and "Officer" not in str(events) and "Other risk" not in str(events)

    # the vocabulary publishes the mapping both ways
    vocabulary = (await sut.client.get("/v1/referrals/vocabulary", headers=sut.council(LEICS))).json()
    mapping = vocabulary["placements_standard"]
    fields = {f["field"]: f for f in mapping["fields"]}
    assert len(fields) == 41 and fields["pets"]["must"] and fields["livingCompanions"]["must"]
    for name, options in OPTIONS.items():
        assert [o["option"] for o in fields[name]["options"]] == options
        for o in fields[name]["options"]:
            assert mapping["to_standard"][fields[name]["ours"]][o["code"]] == {"field": name, "option": o["option"]}
    assert {k: fields[k]["risk_code"] for k in RISKS} == RISK_CODES
    assert vocabulary["deprecated_codes"] == {"exploitation_risk": ["sexual_exploitation_risk",
                                                                    "criminal_exploitation_risk"]}


RISK_CODES = {"riskSelfHarm": "self_harm", "riskSexualExploitation": "sexual_exploitation_risk",
              "riskCriminalExploitation": "criminal_exploitation_risk", "riskDrugAlcohol": "substance_misuse",
              "riskEatingDisorder": "eating_disorder", "riskMissing": "missing_episodes",
              "riskToOthersPhysical": "violence_to_others", "riskToOthersSexual": "harmful_sexual_behaviour",
              "riskToOthersFire": "fire_setting", "riskToOthersAnimals": "harm_to_animals",
              "riskToOthersCriminal": "criminal_risk_to_others"}


def _urn() -> str:
    return f"SC{random.randint(100000, 999999)}"


async def _ranking(sut, referral_id: str, homes: int) -> dict:
    async def ready():
        r = await sut.client.get(f"/v1/referrals/{referral_id}/matches", headers=sut.hub())
        return r.json() if r.status_code == 200 and r.json()["homes_considered"] == homes else None
    return await wait_for(ready)


async def test_matching_keeps_the_must_fields_and_explains_each_exclusion(sut):
    dog = await onboard_live_home(sut, _urn(), pets=True)
    single = await onboard_live_home(sut, _urn(), registered_places=1, postcode="LE11 3TU")
    group = await onboard_live_home(sut, _urn(), postcode="LE2 1AA", communication_support=["bsl"])
    assert dog["pets"] and single["registered_places"] == 1 and group["communication_support"] == ["bsl"]

    minimal = {"childId": 7001, "livingCompanions": "No preference", "pets": "No", "neededBy": "Today",
               "specificCommunicationRequirements": ["BSL"], "riskToOthersAnimals": "No known risk"}
    no_pets = await post(sut, request(minimal))
    assert no_pets.status_code == 201, no_pets.text
    ranking = await _ranking(sut, no_pets.json()["id"], homes=3)
    assert {o["home_id"] for o in ranking["options"]} == {single["id"], group["id"]}
    [excluded] = ranking["exclusions"]
    assert excluded["home_id"] == dog["id"] and excluded["limit"] == "pets_in_home"
    assert "cannot live with pets" in excluded["detail"] and ranking["excluded"]["pets_in_home"] == 1
    by_home = {o["home_id"]: o for o in ranking["options"]}
    reason = next(t for t in by_home[single["id"]]["terms"] if t["term"] == "requirements")
    assert "BSL" in reason["reason"] and reason["points"] > 0  # the BSL gap is explained, not a limit
    assert ranking["rules_version"] == "impact-rules/2"
    homes_vocabulary = (await sut.client.get("/v1/homes/vocabulary", headers=sut.hub())).json()
    assert {"pets_in_home", "solo_placement_needed"} <= set(homes_vocabulary["hard_limits"])
    assert homes_vocabulary["communication_support"] == ["esol", "bsl", "makaton", "other"]

    alone = await post(sut, request({**minimal, "childId": 7002, "livingCompanions": "Solo placement recommended",
                                     "pets": "Yes - can"}))
    assert alone.status_code == 201, alone.text
    ranking = await _ranking(sut, alone.json()["id"], homes=3)
    assert [o["home_id"] for o in ranking["options"]] == [single["id"]]
    assert {e["home_id"]: e["limit"] for e in ranking["exclusions"]} == {dog["id"]: "solo_placement_needed",
                                                                        group["id"]: "solo_placement_needed"}
    assert all("must live alone" in e["detail"] for e in ranking["exclusions"])

    # the council changes its mind in our words (a merge patch replaces the placement request whole): matching follows
    referral = (await sut.client.get(f"/v1/referrals/{alone.json()['id']}", headers=sut.council(LEICS)))
    changed = await sut.client.patch(f"/v1/referrals/{alone.json()['id']}", json={
        "placement_request": {**referral.json()["placement_request"], "living_companions": "no_preference"}},
        headers={**sut.council(LEICS), "If-Match": referral.headers["etag"]})
    assert changed.status_code == 200, changed.text
    assert changed.json()["placements_standard"]["livingCompanions"] == "No preference"
    contradicting = await sut.client.patch(f"/v1/referrals/{alone.json()['id']}", json={
        "no_known_risks": ["other_risk_to_child"], "risks": [{"code": "other_risk_to_child", "severity": "low"}]},
        headers={**sut.council(LEICS), "If-Match": changed.headers["etag"]})
    assert contradicting.status_code == 422 and contradicting.json()["errors"][0]["rule"] == "contradicts_risks"

    async def all_three():
        r = await sut.client.get(f"/v1/referrals/{alone.json()['id']}/matches", headers=sut.hub())
        return r.json() if r.status_code == 200 and len(r.json()["options"]) == 3 else None
    assert not (await wait_for(all_three))["exclusions"]


async def test_an_option_the_standard_does_not_have_is_refused_naming_field_value_and_allowed_values(sut):
    child_id = random.randint(10**6, 10**7)
    base = {"childId": child_id, "livingCompanions": "No preference", "pets": "No", "neededBy": "Today"}
    cases = [
        ({**base, "pets": "Maybe"}, "body.placements_standard.pets", "standard_option", "Maybe",
         ["Yes - must", "Yes - can", "No", "Not Known"]),
        ({**base, "riskMissing": "Risk Absent"}, "body.placements_standard.riskMissing", "standard_option",
         "Risk Absent", ["No known risk", "Risk Present"]),
        ({**base, "specificCommunicationRequirements": ["BSL", "Semaphore"]},
         "body.placements_standard.specificCommunicationRequirements.1", "standard_option", "Semaphore", COMMUNICATION),
    ]
    for block, field, rule, value, allowed in cases:
        r = await post(sut, request(block))
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json"), r.text
        [error] = r.json()["errors"]
        assert (error["field"], error["rule"], error["value"], error["allowed"]) == (field, rule, value, allowed)
        assert value in error["message"]
    for block, field, rule in [
            ({k: v for k, v in base.items() if k != "pets"}, "body.placements_standard.pets", "missing"),
            ({**base, "petz": "No"}, "body.placements_standard.petz", "extra_forbidden"),
            ({**base, "providerURN": "SC12345"}, "body.placements_standard.providerURN", "string_pattern_mismatch"),
            ({**base, "riskSelfHarm": "No known risk"}, "body.placements_standard.riskSelfHarm", "contradicts_risks")]:
        body = request(block)
        if rule == "contradicts_risks":
            body["risks"] = [{"code": "self_harm", "severity": "high"}]
        r = await post(sut, body)
        assert r.status_code == 422, r.text
        assert (r.json()["errors"][0]["field"], r.json()["errors"][0]["rule"]) == (field, rule)
    # nothing was stored, nothing was announced
    listed = await sut.client.get("/v1/referrals", params={"child_ref": str(child_id)}, headers=sut.council(LEICS))
    assert listed.status_code == 200 and listed.json()["items"] == []
    assert not [e for e in await events_of(sut) if e["type"] == "referral.received"]
