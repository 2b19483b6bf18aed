"""SSDA903 episodes out (issue 12): a child placed through the real APIs, a legal status change recorded with
its effective day, an X1 ending with the reason for the placement change; the episodes as JSON and as the
return's CSV, for all the caller's placements and per placement; another council sees none of them. Also: a
newly registered home's 7-digit URN, sex as the return's codes."""
from __future__ import annotations

import csv
import io
import random

from .support import wait_for
from .support.assessment import admit, arrive, days, key
from .support.matching import onboard_live_home
from .support.referrals import LEICESTER, LEICS

COLUMNS = ["CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "URN", "PL_POST", "HOME_POST",
           "PL_DISTANCE", "DEC", "REC", "REASON_PLACE_CHANGE"]


def _dmy(iso: str) -> str:
    y, m, d = iso.split("-")
    return f"{d}/{m}/{y}"


async def test_episodes_follow_the_legal_status_and_the_ending_and_stay_inside_the_council(sut):
    urn = str(random.randint(2_000_000, 2_999_999))  # Ofsted's 7-digit form for a newly registered home
    home = await onboard_live_home(sut, urn, postcode="NG7 2RD")
    assert home["urn"] == urn
    child_ref = f"LCC-903-{random.randint(0, 10**6)}"
    placement = await admit(sut, home, child_ref=child_ref, sex="F", legal_status="C1", category_of_need="N1")
    referral = (await sut.client.get(f"/v1/referrals/{placement['referral_id']}", headers=sut.council(LEICS))).json()
    assert referral["sex"] == "female" and referral["sex_code"] == "F" and referral["category_of_need"] == "N1"

    pid = placement["id"]
    arrived = await sut.client.post(f"/v1/placements/{pid}/arrival", headers={**key(), **sut.hub()},
                                    json={"arrival_date": days(-40), "reason_new_episode": "S"})
    assert arrived.status_code == 200, arrived.text

    async def known():  # the child's facts reach assessment from the referral's events
        p = (await sut.client.get(f"/v1/placements/{pid}", headers=sut.hub())).json()
        return p if p["legal_status_history"] and p["legal_status_history"][0]["legal_status"] == "C1" else None
    p = await wait_for(known)
    assert p["dfe_la_number"] == "855" and p["home_urn"] == urn

    # the legal status changes: a full care order from 20 days ago
    same = await sut.client.post(f"/v1/placements/{pid}/legal-status", headers={**key(), **sut.hub()},
                                 json={"legal_status": "C1", "effective_date": days(-20)})
    assert same.status_code == 422 and same.json()["errors"][0]["field"] == "body.legal_status"
    before = await sut.client.post(f"/v1/placements/{pid}/legal-status", headers={**key(), **sut.hub()},
                                   json={"legal_status": "C2", "effective_date": days(-41)})
    assert before.status_code == 422 and before.json()["errors"][0]["field"] == "body.effective_date"
    council = await sut.client.post(f"/v1/placements/{pid}/legal-status", headers={**key(), **sut.council(LEICS)},
                                    json={"legal_status": "C2", "effective_date": days(-20)})
    assert council.status_code == 403
    changed = await sut.client.post(f"/v1/placements/{pid}/legal-status", headers={**key(), **sut.hub()},
                                    json={"legal_status": " c2", "effective_date": days(-20)})  # as a referral's
    assert changed.status_code == 200, changed.text
    assert [(h["legal_status"], h["effective_date"], h["source"]) for h in changed.json()["legal_status_history"]] == [
        ("C1", days(-40), "referral"), ("C2", days(-20), "change")]

    # an X1 ending needs the reason for the placement change
    no_reason = await sut.client.post(f"/v1/placements/{pid}/ending", headers={**key(), **sut.hub()},
                                      json={"end_date": days(0), "ending_type": "breakdown", "reason_code": "X1"})
    assert no_reason.status_code == 422
    assert no_reason.json()["errors"][0]["field"] == "body.reason_place_change"
    ended = await sut.client.post(f"/v1/placements/{pid}/ending", headers={**key(), **sut.hub()},
                                  json={"end_date": days(0), "ending_type": "breakdown", "reason_code": "X1",
                                        "reason_place_change": "CREQB"})
    assert ended.status_code == 200, ended.text

    one = await sut.client.get(f"/v1/placements/{pid}/ssda903-episodes", headers=sut.council(LEICS))
    assert one.status_code == 200, one.text
    rows = one.json()["items"]
    assert [(r["DECOM"], r["RNE"], r["LS"], r["DEC"], r["REC"], r["REASON_PLACE_CHANGE"]) for r in rows] == [
        (days(-40), "S", "C1", days(-20), "X1", None), (days(-20), "L", "C2", days(0), "X1", "CREQB")]
    assert all(r["CHILD"] == child_ref and r["CIN"] == "N1" and r["PLACE"] == "K2" and r["URN"] == urn
               and r["PL_POST"] == "NG7 2RD" and r["HOME_POST"] == "LE4" and r["PL_DISTANCE"] > 10
               and r["dfe_la_number"] == "855" for r in rows)

    listed = await sut.client.get("/v1/placements/ssda903-episodes", headers=sut.council(LEICS),
                                  params={"from": days(-30), "to": days(0)})
    assert listed.status_code == 200
    mine = [r for r in listed.json()["items"] if r["placement_id"] == pid]
    assert mine == rows  # both episodes are open at some time in the window

    # beside them, the same placement in the DfE children's social care API's shape: one item, whatever the episodes
    csc = await sut.client.get("/v1/placements/csc-api-placements", headers=sut.council(LEICS),
                               params={"from": days(-30), "to": days(0)})
    assert csc.status_code == 200, csc.text
    [child] = [c for c in csc.json()["items"] if c["la_child_id"] == child_ref]
    assert child["dfe_la_number"] == "855" and child["child_looked_after_placements"] == [{
        "child_looked_after_placement_id": pid, "start_date": days(-40), "start_reason": "S", "placement_type": "K2",
        "postcode": "NG7 2RD", "end_date": days(0), "end_reason": "X1", "change_reason": "CREQB", "purge": False}]
    alone = await sut.client.get("/v1/placements/csc-api-placements", headers=sut.council(LEICS),
                                 params={"placement": pid})
    assert alone.json()["items"] == [child]
    assert (await sut.client.get("/v1/placements/csc-api-placements", headers=sut.council(LEICESTER),
                                 params={"placement": pid})).status_code == 404
    as_csv = await sut.client.get("/v1/placements/ssda903-episodes", headers={**sut.council(LEICS),
                                                                              "Accept": "text/csv"},
                                  params={"from": days(-30), "to": days(0)})
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert list(table[0]) == COLUMNS
    ours = [t for t in table if t["CHILD"] == child_ref]
    assert [(t["DECOM"], t["DEC"], t["LS"]) for t in ours] == [(_dmy(days(-40)), _dmy(days(-20)), "C1"),
                                                               (_dmy(days(-20)), _dmy(days(0)), "C2")]
    later = await sut.client.get("/v1/placements/ssda903-episodes", headers=sut.council(LEICS),
                                 params={"from": days(1), "to": days(30), "format": "json"})
    assert not [r for r in later.json()["items"] if r["placement_id"] == pid]

    # another council: none of them, and the placement's episodes are not there
    other = await sut.client.get("/v1/placements/ssda903-episodes", headers=sut.council(LEICESTER),
                                 params={"from": days(-60), "to": days(0)})
    assert other.status_code == 200 and not [r for r in other.json()["items"] if r["CHILD"] == child_ref]
    other_csc = await sut.client.get("/v1/placements/csc-api-placements", headers=sut.council(LEICESTER),
                                     params={"from": days(-60), "to": days(0)})
    assert other_csc.status_code == 200 and not [c for c in other_csc.json()["items"] if c["la_child_id"] == child_ref]
    hidden = await sut.client.get(f"/v1/placements/{pid}/ssda903-episodes", headers=sut.council(LEICESTER))
    assert hidden.status_code == 404
    bad = await sut.client.get("/v1/placements/ssda903-episodes", headers=sut.council(LEICS),
                               params={"from": days(0), "to": days(-1)})
    assert bad.status_code == 422


async def test_a_child_of_unknown_sex_is_referred_and_an_urn_in_neither_form_is_refused(sut):
    referral = await sut.client.post("/v1/referrals", headers={**key(), **sut.council(LEICS)}, json={
        "child_ref": "LCC-U-1", "date_of_birth": days(-14 * 366), "sex": "U", "urgency": "planned",
        "social_worker": {"name": "Sam Patel", "email": "sam.patel@leics.gov.uk"}})
    assert referral.status_code == 201, referral.text
    assert referral.json()["sex"] == "unknown" and referral.json()["sex_code"] == "U"
    wrong = await sut.client.post("/v1/referrals", headers={**key(), **sut.council(LEICS)}, json={
        "child_ref": "LCC-U-2", "date_of_birth": days(-14 * 366), "sex": "X", "urgency": "planned",
        "social_worker": {"name": "Sam Patel", "email": "sam.patel@leics.gov.uk"}})
    assert wrong.status_code == 422 and "F, M, U" in wrong.text and "body.sex" in wrong.text
    from .support.matching import PROVIDER_SCOPES, home_body
    refused = await sut.client.post("/v1/homes", json=home_body("SC12345"),
                                    headers=sut.hub("provider_admin", scopes=PROVIDER_SCOPES))
    assert refused.status_code == 422 and "body.urn" in refused.text
