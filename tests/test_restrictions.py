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


@pytest.mark.parametrize("system_overrides", ["inprocess-sqlite", "kafka-postgres"], indirect=True)
async def test_every_service_answers_a_council_451_for_a_restricted_child_and_serves_it_again_once_lifted(sut):
    """assessment, outcomes and billing keep referral.restricted (and referral.restriction_lifted) in their own
    tables: the council's placement, intervention and outcome reads of the child answer 451 with the reason and
    date, its listings leave the child out and count it, its invoice keeps the child's lines and money with the
    child's reference withheld; the hub reads everything, marked; after the hub lifts it, the council reads it
    again everywhere."""
    from itp.testing import wait_for

    from .support.assessment import admit, arrive, new_home
    from .support.faults import close_period, contract, month_start, settled
    from .support.outreach import accept_outreach, create_team, refer_outreach

    today = date.today()
    await contract(sut, LEICS)
    placement = await admit(sut, await new_home(sut), la_code=LEICS)
    kept = await admit(sut, await new_home(sut), la_code=LEICS)
    await arrive(sut, placement, days_ago=40)
    await arrive(sut, kept, days_ago=40)
    outreach = await refer_outreach(sut, LEICS)
    await accept_outreach(sut, outreach, (await create_team(sut))["id"])
    await settled(sut)
    await close_period(sut, month_start(today - timedelta(days=40)))
    child = placement["referral_id"]
    council = sut.council(LEICS)

    async def council_page(url):
        r = await sut.client.get(url, headers=council)
        assert r.status_code == 200, r.text
        return r.json()

    invoice_url = None
    for i in (await council_page("/v1/invoices"))["items"]:
        lines = (await council_page(f"/v1/invoices/{i['id']}"))["lines"]
        if any(line["placement_id"] == placement["id"] for line in lines):
            invoice_url = f"/v1/invoices/{i['id']}"
    assert invoice_url, "the child's month was invoiced"
    intervention = (await council_page(f"/v1/interventions?referral_id={outreach}"))["items"][0]

    restricted = {}
    for referral_id in (child, outreach):
        made = await sut.client.post(f"/v1/referrals/{referral_id}/restrictions", json=ERASURE, headers=sut.hub())
        assert made.status_code == 201, made.text
        restricted[referral_id] = made.json()["id"]
    await settled(sut)

    # the council: 451 naming the reason and the date, never the record, in every service
    for url in (f"/v1/placements/{placement['id']}", f"/v1/placements/{placement['id']}/plan",
                f"/v1/placements/{placement['id']}/ssda903-episodes", f"/v1/interventions/{intervention['id']}",
                f"/v1/outcomes/placements/{placement['id']}", f"/v1/journeys/placements/{placement['id']}"):
        r = await sut.client.get(url, headers=council)
        assert r.status_code == 451, (url, r.status_code, r.text)
        assert r.json()["reason_code"] == "erasure_request" and r.json()["requested_on"] == "2026-11-20", r.text
        assert child not in r.text and outreach not in r.text
    log = (await sut.client.get("/v1/audit/access", params={"child": child}, headers=sut.hub())).json()["items"]
    refused = {(r["action"], r["status"], r["route"]) for r in log if r["client_id"] == f"council-{LEICS}"}
    assert {("denied", 451, "GET /v1/placements/{id}"), ("denied", 451, "GET /v1/outcomes/placements/{id}")} <= refused
    # listings and exports leave the child out and say how many
    page = await council_page("/v1/placements")
    assert [p["id"] for p in page["items"]] == [kept["id"]] and page["restricted_omitted"] == 1
    page = await council_page("/v1/interventions")
    assert page["items"] == [] and page["restricted_omitted"] == 1
    episodes = await council_page(f"/v1/placements/ssda903-episodes?from={today - timedelta(days=60)}")
    assert {e["placement_id"] for e in episodes["items"]} == {kept["id"]} and episodes["restricted_omitted"] == 1
    deadlines = await council_page("/v1/deadlines?limit=200")
    assert placement["id"] not in str(deadlines["items"]) and deadlines["restricted_omitted"] >= 1
    report = await council_page("/v1/reports/outreach")
    assert report["interventions"] == [] and report["restricted_omitted"] == 1
    assert report["all"]["interventions"] == 1  # still counted
    # the invoice keeps the child's lines and money, the child's reference withheld
    seen = await council_page(invoice_url)
    withheld = [line for line in seen["lines"] if line["child_withheld"]]
    assert withheld and all(line["child_ref"] is None and line["placement_id"] is None for line in withheld)
    assert placement["id"] not in str(seen) and kept["id"] in str(seen)
    # the hub: everything, marked
    hub = await sut.client.get(f"/v1/placements/{placement['id']}", headers=sut.hub())
    assert hub.status_code == 200 and hub.json()["restriction"]["id"] == restricted[child]
    hub_outcomes = (await sut.client.get(f"/v1/outcomes/placements/{placement['id']}", headers=sut.hub())).json()
    assert hub_outcomes["restriction"]["reason_code"] == "erasure_request"
    hub_intervention = (await sut.client.get(f"/v1/interventions/{intervention['id']}", headers=sut.hub())).json()
    assert hub_intervention["restriction"]["id"] == restricted[outreach]
    hub_invoice = (await sut.client.get(invoice_url, headers=sut.hub("finance", scopes=("invoices:read",)))).json()
    assert [line["restriction"]["id"] for line in hub_invoice["lines"] if line["placement_id"] == placement["id"]]
    assert hub_invoice["total"] == seen["total"]

    # the hub lifts the placement child's restriction: recorded, idempotent, emitted once
    lift_url = f"/v1/referrals/{child}/restrictions/{restricted[child]}/lift"
    assert (await sut.client.post(lift_url, headers=council)).status_code == 403
    lifted = await sut.client.post(lift_url, headers={**sut.hub(), "Idempotency-Key": "lift-1"})
    assert lifted.status_code == 200 and lifted.json()["lifted_at"] and lifted.json()["lifted_by"] == "hub-hub"
    again = await sut.client.post(lift_url, headers=sut.hub())
    assert again.status_code == 200 and again.json()["lifted_at"] == lifted.json()["lifted_at"]
    emitted = [e for e in await events_of(sut) if e["type"] == "referral.restriction_lifted"]
    assert [(e["subject_id"], e["payload"]["restriction_id"]) for e in emitted] == [(child, restricted[child])]
    await settled(sut)
    for url in (f"/v1/referrals/{child}", f"/v1/placements/{placement['id']}",
                f"/v1/outcomes/placements/{placement['id']}"):
        r = await sut.client.get(url, headers=council)
        assert r.status_code == 200, (url, r.text)
    assert (await council_page("/v1/placements")).get("restricted_omitted", 0) == 0
    assert any(line["placement_id"] == placement["id"] for line in (await council_page(invoice_url))["lines"])
    # the other child stays restricted
    assert (await sut.client.get(f"/v1/interventions/{intervention['id']}", headers=council)).status_code == 451


@pytest.mark.parametrize("system_overrides", ["inprocess-sqlite", "kafka-postgres"], indirect=True)
async def test_a_councils_webhooks_carry_no_event_about_a_restricted_child_and_its_delivery_log_says_why(
        make_system):
    """The gateway keeps the restrictions too: an event about a restricted child (here the plan issued for its
    placement, an event naming only the placement) is not sent to the council's webhook; the delivery log shows it
    withheld, with the reason as a code and the restriction's id, and nothing of the event; referral.restricted and
    referral.restriction_lifted themselves reach the council; after the lift new events flow again, the withheld
    one is never sent. The hub's ranking of the child carries the restriction marker; a council reads no ranking."""
    from itp.testing import Receiver, wait_for

    from .support.assessment import admit, arrive, issue_plan, key, new_home
    from .support.faults import settled, webhook

    sut = await make_system(webhook_allow_http_localhost=True, webhook_retry_schedule=[0.2] * 5)
    council = sut.council(LEICS)
    async with Receiver() as rx:
        hook = await webhook(sut, rx, LEICS)
        placement = await admit(sut, await new_home(sut), la_code=LEICS)
        child = placement["referral_id"]
        await arrive(sut, placement, days_ago=3)
        await settled(sut)

        def received(event_type: str) -> list[dict]:
            return [r.event for r in rx.successes() if r.event["type"] == event_type]
        await wait_for(lambda: received("placement.started"))

        made = await sut.client.post(f"/v1/referrals/{child}/restrictions", json=ERASURE, headers=sut.hub())
        assert made.status_code == 201, made.text
        restriction = made.json()["id"]
        await settled(sut)
        # matching: the hub's ranking of the child is marked; a council reads no ranking at all
        matches = await sut.client.get(f"/v1/referrals/{child}/matches", headers=sut.hub())
        assert matches.status_code == 200 and matches.json()["restriction"]["id"] == restriction, matches.text
        assert matches.json()["restriction"]["reason_code"] == "erasure_request"
        assert (await sut.client.get(f"/v1/referrals/{child}/matches", headers=council)).status_code == 403

        await issue_plan(sut, placement)  # pathway_plan.issued: names the placement only
        await settled(sut)

        async def withheld():
            r = await sut.client.get(f"/v1/webhooks/{hook['id']}/deliveries", params={"state": "withheld"},
                                     headers=council)
            assert r.status_code == 200, r.text
            return r.json()["items"] or None
        [held] = await wait_for(withheld)
        assert held["event_type"] == "pathway_plan.issued" and held["attempts"] == 0 and held["log"] == []
        assert held["withheld_reason"] == "restriction" and held["restriction_id"] == restriction
        assert child not in str(held) and placement["id"] not in str(held)
        notice = (await wait_for(lambda: received("referral.restricted")))[0]
        assert notice["data"]["restriction_id"] == restriction and notice["data"]["reason_code"] == "erasure_request"
        assert "child_ref" not in notice["data"]

        lifted = await sut.client.post(f"/v1/referrals/{child}/restrictions/{restriction}/lift", headers=sut.hub())
        assert lifted.status_code == 200, lifted.text
        await settled(sut)
        moved = await sut.client.post(f"/v1/placements/{placement['id']}/phase-2", headers={**key(), **sut.hub()},
                                      json={"effective_date": str(date.today()), "reason": "IPP agreed"})
        assert moved.status_code == 200, moved.text
        await settled(sut)
        await wait_for(lambda: received("referral.restriction_lifted") and received("phase.transitioned"))
        assert received("pathway_plan.issued") == []  # withheld, and not replayed after the lift
        again = await sut.client.post(f"/v1/webhooks/{hook['id']}/deliveries/{held['id']}/redeliver", headers=council)
        assert again.status_code == 409, again.text
        matches = await sut.client.get(f"/v1/referrals/{child}/matches", headers=sut.hub())
        assert matches.json()["restriction"] is None
