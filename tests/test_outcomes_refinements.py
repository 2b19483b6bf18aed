"""Issue 13's figures from what the other services actually say, on both transports: block contract use from
billing's invoice lines (a block contract's line, a child charged above the block) and the contract ids of
placement.fee_applied; a wrongly recorded measure corrected (If-Match, the previous values kept with who, when
and why, outcome.recorded sent again as a correction); a step-down that a follow-up measure says broke down."""
from __future__ import annotations

from datetime import timedelta

from services.billing.tables import placements as billing_placements
from sqlalchemy import select

from .support import wait_for
from .support.assessment import today, admit, arrive, issue_plan, key, new_home
from .support.referrals import events_of
from .support.outcomes import known_to_outcomes, record, sdq_items

A = "E10000018"


async def billing_knows(sut, placement_id: str):
    async def known():
        async with sut.runtime("billing").db.session() as session:
            return (await session.execute(select(billing_placements.c.id).where(
                billing_placements.c.id == placement_id))).first()
    return await wait_for(known)


async def test_block_use_corrections_and_a_step_down_that_broke(sut):
    finance = sut.hub("finance", scopes=("billing:write", "invoices:read"))
    arrival = today() - timedelta(days=75)
    contract = await sut.client.post("/v1/contracts", headers={**key(), **finance}, json={
        "la_code": A, "name": "Block of one bed", "form": "block", "start_date": str(arrival - timedelta(days=60)),
        "end_date": str(today() + timedelta(days=300)),
        "block": {"beds": 1, "weekly_price": {"amount": "4900.00", "currency": "GBP"}}})
    assert contract.status_code == 201, contract.text
    schedule = await sut.client.post(f"/v1/contracts/{contract.json()['id']}/fee-schedules",
                                     headers={**key(), **finance}, json={
        "effective_from": str(arrival - timedelta(days=60)), "phase_1_weekly": {"amount": "5200.00", "currency": "GBP"},
        "phase_2_weekly": {"amount": "3789.00", "currency": "GBP"}})
    assert schedule.status_code == 201, schedule.text
    p1 = await admit(sut, await new_home(sut), la_code=A, child_ref="LCC-BLOCK-1")
    p2 = await admit(sut, await new_home(sut), la_code=A, child_ref="LCC-BLOCK-2")
    await arrive(sut, p1, days_ago=75)
    await arrive(sut, p2, days_ago=75)
    for p in (p1, p2):
        await billing_knows(sut, p["id"])
        await known_to_outcomes(sut, p["id"])

    # the arrival month closed: the block's line for its one bed, the other child charged above the block
    closed = await sut.client.post("/v1/fee-periods/close", headers={**key(), **finance},
                                   json={"period_start": str(arrival.replace(day=1))})
    assert closed.status_code == 200, closed.text
    window = {"from": str(arrival.replace(day=1)), "to": str(today())}

    async def block_known():
        r = (await sut.client.get("/v1/reports/sufficiency", params=window, headers=sut.council(A))).json()
        b = r["contract_use"]["block"]
        return r if b["contracts"] == 1 and b["placements_charged_above_block"] == 1 else None
    block = (await wait_for(block_known))["contract_use"]["block"]
    month_end = (arrival.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    block_days = (month_end - max(arrival.replace(day=1), arrival - timedelta(days=60))).days + 1
    assert block["placements_on_block_contracts"] == 2
    assert block["invoiced_days"] == block_days
    assert block["days_charged_above_block"] == (month_end - arrival).days + 1
    pence = (490000 * block_days * 2 + 7) // 14                      # weekly / 7 a day, rounded once, half up
    assert block["invoiced"] == f"{pence // 100}.{pence % 100:02d}"
    other = (await sut.client.get("/v1/reports/sufficiency", params=window, headers=sut.council("E06000016"))).json()
    assert other["contract_use"]["block"]["contracts"] == 0

    # a baseline SDQ recorded wrongly, then corrected: If-Match is the measurement's version
    await record(sut, p1["id"], "baseline", 70, total=22, stability={"missing_episodes": 3, "police_callouts": 1,
                                                                     "incidents": 2, "placement_moves": 1})
    url = f"/v1/outcomes/placements/{p1['id']}/measures/baseline/corrections"
    body = {"reason_code": "entry_error", "sdq": {"informant": "parent", "items": sdq_items(12)}}
    assert (await sut.client.post(url, json=body, headers=sut.hub())).status_code == 428
    stale = await sut.client.post(url, json=body, headers={"If-Match": '"7"', **sut.hub()})
    assert stale.status_code == 412 and stale.headers["etag"] == '"1"'
    unrecorded = await sut.client.post(url, json={"reason_code": "entry_error", "health": {"gp_registered": True}},
                                       headers={"If-Match": '"1"', **sut.hub()})
    assert unrecorded.status_code == 422 and unrecorded.json()["errors"][0]["rule"] == "not_recorded"
    assert (await sut.client.post(url, json=body, headers={"If-Match": '"1"', **sut.council(A)})).status_code == 403
    fixed = await sut.client.post(url, json=body, headers={"If-Match": '"1"', **key(), **sut.hub()})
    assert fixed.status_code == 200, fixed.text
    assert fixed.headers["etag"] == '"2"'
    view = fixed.json()
    assert view["measures"][0]["sdq"]["total_difficulties"] == 12 and view["measures"][0]["version"] == 2
    assert view["measures"][0]["stability"]["missing_episodes"] == 3       # groups not sent stay as recorded
    [correction] = view["corrections"]
    assert (correction["group"], correction["reason_code"], correction["corrected_by"], correction["version"]) == (
        "sdq", "entry_error", "hub-hub", 2)
    assert correction["previous"]["sdq_total"] == 22
    await record(sut, p1["id"], "day_28", 46, total=10)
    mine = (await sut.client.get(f"/v1/outcomes/placements/{p1['id']}", headers=sut.council(A))).json()
    assert mine["progress"]["sdq_total"]["baseline"] == 12 and mine["progress"]["sdq_total"]["change"] == -2

    async def corrected_events():
        evs = [e for e in await events_of(sut, "outcomes") if e["type"] == "outcome.recorded"
               and e["payload"]["measure"] == "sdq_total" and e["payload"]["placement_id"] == p1["id"]]
        return evs if len(evs) == 3 else None
    evs = await wait_for(corrected_events)
    assert [(e["payload"]["value"], e["payload"]["correction"], e["payload"]["correction_reason"]) for e in evs] == [
        (22, False, None), (12, True, "entry_error"), (10, False, None)]

    # the second child steps down; a follow-up measure 3 months on says the new placement moved: it broke
    await issue_plan(sut, p2)
    moved = await sut.client.post(f"/v1/placements/{p2['id']}/phase-2", headers={**key(), **sut.hub()},
                                  json={"effective_date": str(arrival + timedelta(days=28)), "reason": "IPP agreed"})
    assert moved.status_code == 200, moved.text
    ended = await sut.client.post(f"/v1/placements/{p2['id']}/ending", headers={**key(), **sut.hub()},
                                  json={"end_date": str(today() - timedelta(days=10)), "ending_type": "step_down",
                                        "destination": "foster_care", "reason_code": "X1",
                                        "reason_place_change": "CARPL"})
    assert ended.status_code == 200, ended.text

    async def ended_known():
        v = await known_to_outcomes(sut, p2["id"])
        return v if v["end_date"] else None
    await wait_for(ended_known)
    early = await sut.client.post(f"/v1/outcomes/placements/{p2['id']}/measures", headers={**key(), **sut.hub()},
                                  json={"timepoint": "follow_up_3_months", "recorded_on": str(today() - timedelta(days=12)),
                                        "stability": {"placement_moves": 1}})
    assert early.status_code == 422 and early.json()["errors"][0]["rule"] == "after_the_end"
    await record(sut, p2["id"], "follow_up_3_months", 2, stability={"missing_episodes": 2, "police_callouts": 0,
                                                                    "incidents": 1, "placement_moves": 1})
    cohort = (await sut.client.get("/v1/outcomes/cohorts", params={**window, "by": "council"},
                                   headers=sut.council(A))).json()
    steps = cohort["groups"][0]["step_downs"]
    assert steps["count"] == 1
    assert steps["3_months"] == {"held": 0, "broke": 1, "pending": 0}
    assert steps["12_months"] == {"held": 0, "broke": 1, "pending": 0}
