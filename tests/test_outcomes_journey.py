"""A child's actual journey inside the service, on both transports: billing tells each invoice's lines
(invoice.issued), outcomes keeps them, and after the months are closed (a back-dated Phase 2 adjusted in the
third) the child's journey is what was invoiced to the penny, adjustments included, with the days not yet
invoiced only as a labelled estimate; the council adds the placements before and after and compares them
with the pathway's alternative through the one journey core; council B sees none of it."""
from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

from .support import wait_for
from .support.assessment import today, admit, arrive, issue_plan, key, new_home
from .support.referrals import events_of
from .test_billing_flow import FINANCE_SCOPES, P1, P2, amount, billing_knows, money, month_starts

A, B = "E10000018", "E06000016"


async def test_the_childs_journey_is_what_was_invoiced_adjustments_included(sut):
    finance = sut.hub("finance", scopes=FINANCE_SCOPES)
    home = await new_home(sut)
    placement = await admit(sut, home, la_code=A)
    arrival = today() - timedelta(days=130)
    await arrive(sut, placement, days_ago=130)
    r = await sut.client.post("/v1/contracts", headers={**key(), **finance}, json={
        "la_code": A, "name": "Spot purchase", "form": "spot", "start_date": str(arrival - timedelta(days=365))})
    assert r.status_code == 201, r.text
    contract = r.json()
    r = await sut.client.post(f"/v1/contracts/{contract['id']}/fee-schedules", headers={**key(), **finance}, json={
        "effective_from": contract["start_date"], "phase_1_weekly": money(P1), "phase_2_weekly": money(P2)})
    assert r.status_code == 201, r.text
    await billing_knows(sut, placement["id"])
    months = month_starts(arrival, today())

    async def close(start: date) -> dict:
        r = await sut.client.post("/v1/fee-periods/close", headers={**key(), **finance},
                                  json={"period_start": str(start)})
        assert r.status_code == 200, r.text
        return r.json()["invoices"][0]

    invoices = [await close(months[0]), await close(months[1])]
    await issue_plan(sut, placement)
    moved = await sut.client.post(f"/v1/placements/{placement['id']}/phase-2", headers={**key(), **sut.hub()},
                                  json={"effective_date": str(arrival + timedelta(days=28)), "reason": "IPP agreed"})
    assert moved.status_code == 200, moved.text
    await billing_knows(sut, placement["id"], phase_2=True)
    invoices.append(await close(months[2]))
    third = (await sut.client.get(f"/v1/invoices/{invoices[2]['id']}", headers=finance)).json()
    assert any(line["kind"] == "adjustment" for line in third["lines"])
    invoiced_pence = sum(amount(i["total"]) for i in invoices)
    lines = sum([len((await sut.client.get(f"/v1/invoices/{i['id']}", headers=finance)).json()["lines"])
                 for i in invoices])

    # invoice.issued tells the lines: codes, ids, dates and numbers, never the council's child reference
    issued = [e for e in await events_of(sut, "billing") if e["type"] == "invoice.issued"]
    told = [line for e in issued for line in e["payload"]["lines"]]
    assert len(told) == lines and {line["referral_id"] for line in told} == {placement["referral_id"]}
    assert sum(line["amount_pence"] for line in told) == invoiced_pence
    assert "LCC-T-1" not in json.dumps(issued) and "description" not in told[0]

    async def journey_known():
        r = await sut.client.get(f"/v1/journeys/placements/{placement['id']}", headers=sut.council(A))
        return r.json() if r.status_code == 200 and r.json()["invoiced"]["lines"] == lines else None
    journey = await wait_for(journey_known)
    invoiced = [s for s in journey["segments"] if s["source"] == "invoiced"]
    estimate = [s for s in journey["segments"] if s["source"] == "estimate"]
    assert amount({"amount": journey["invoiced"]["total"], "currency": "GBP"}) == invoiced_pence
    assert sum(int(Decimal(s["stated_total"]) * 100) for s in invoiced) == invoiced_pence  # to the penny
    assert journey["invoiced"]["adjustments"] >= 1 and any(s["adjustments"] for s in invoiced)
    adjusted = next(s for s in invoiced if s["adjustments"])
    assert Decimal(adjusted["stated_total"]) == Decimal(adjusted["invoiced"]) + sum(
        Decimal(a["amount"]) for a in adjusted["adjustments"])
    last_invoiced = (months[2] + timedelta(days=32)).replace(day=1)
    assert journey["invoiced"]["through"] == str(last_invoiced - timedelta(days=1))
    # the days since, not yet invoiced: only an estimate from the fee billing applied, labelled so
    assert estimate and estimate[0]["from"] == str(last_invoiced) and journey["estimate"]["from"] == str(last_invoiced)
    assert all("estimate: not yet invoiced" in s["setting"] for s in estimate)
    assert estimate[-1]["rate"] == "3789.00" and journey["estimate"]["days"] == (today() - last_invoiced).days

    # the council adds the placements before and after, and compares with the pathway's alternative
    before = [{"setting": "Residential Placement (out of county)", "length": 20, "unit": "week", "rate": "6500.00"}]
    after = [{"setting": "Foster care", "length": 26, "unit": "week", "rate": "900.00"}]
    alternative = [{"setting": "Residential Placement (out of county)", "length": 80, "unit": "week",
                    "rate": "6500.00"}]
    r = await sut.client.post(f"/v1/journeys/placements/{placement['id']}/compare", headers=sut.council(A),
                              json={"before": before, "after": after, "alternative": alternative})
    assert r.status_code == 200, r.text
    compared = r.json()
    assert compared["inside_service"]["first_line"] == 2
    assert len(compared["actual"]["segments"]) == 2 + len(journey["segments"])
    estimate_pence = sum(int(Decimal(line["computed_total"]) * 100) for line in compared["actual"]["segments"]
                         [1 + len(invoiced):-1])
    expected = 20 * 650000 + invoiced_pence + estimate_pence + 26 * 90000
    assert Decimal(compared["actual"]["computed_total"]) * 100 == expected
    assert compared["alternative"]["computed_total"] == "520000.00"
    assert Decimal(compared["difference"]["computed"]) * 100 == expected - 52000000
    # the same answer /v1/journeys/compare gives for the same segments: one core
    plain = await sut.client.post("/v1/journeys/compare", headers=sut.council(A), json={
        "actual": before + journey["segments"] + after, "alternative": alternative})
    assert plain.json()["difference"] == compared["difference"]
    bad = await sut.client.post(f"/v1/journeys/placements/{placement['id']}/compare", headers=sut.council(A),
                                json={"before": [{"setting": "x", "unit": "week", "length": 2, "rate": "-1"}],
                                      "alternative": alternative})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.before.0.rate"

    # council B: the placement does not exist
    assert (await sut.client.get(f"/v1/journeys/placements/{placement['id']}", headers=sut.council(B))).status_code == 404
    r = await sut.client.post(f"/v1/journeys/placements/{placement['id']}/compare", headers=sut.council(B),
                              json={"alternative": alternative})
    assert r.status_code == 404 and placement["referral_id"] not in r.text
