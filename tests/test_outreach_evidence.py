"""The outreach evidence report (issue 16) from the catalogue's events, sent through the system's own bus (the
in-process bus, or Kafka) as referral, assessment and billing will send them: two councils' outreach referrals,
their interventions (started, sessions, follow-ups at 6 weeks, 3 and 6 months, closed) and billing's outreach
invoice lines. The report per intervention, team and council (held, broken down, time to stabilise, fees paid
against the breakdown costs avoided), JSON and CSV; each council's assumed cost of a breakdown changed with
If-Match and kept; council B sees none of council A's interventions."""
from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime, timedelta, timezone

from libs.common.events.catalogue import CATALOGUE
from libs.common.events.envelope import EventEnvelope

from .support import wait_for
from .support.assessment import today, key

A, B = "E10000018", "E06000016"
TEAM_1, TEAM_2 = str(uuid.uuid4()), str(uuid.uuid4())


async def send(sut, type_: str, subject: str, la_code: str, payload: dict) -> None:
    envelope = EventEnvelope(type=type_, producer="test", subject_id=subject, la_code=la_code, payload=payload)
    await sut.runtime("outcomes").transport.publish(CATALOGUE[type_].topic, subject, envelope.to_bytes())


def d(days_ago: int) -> str:
    return str(today() - timedelta(days=days_ago))


async def intervention(sut, la: str, team: str, child_ref: str, *, started_ago: int, follow_ups: dict[str, bool],
                       outcome: str | None, stabilised_after: int | None, fee_pence: list[int]) -> dict:
    referral_id, intervention_id = str(uuid.uuid4()), str(uuid.uuid4())
    await send(sut, "referral.received", referral_id, la, {
        "referral_id": referral_id, "child_ref": child_ref, "date_of_birth": "2012-03-14", "sex": "female",
        "home_outward_code": "LE4", "urgency": "urgent", "received_at": datetime.now(timezone.utc).isoformat(),
        "kind": "outreach", "current_setting": "foster_care", "at_risk": ["placement_breakdown"],
        "outreach_basis": "fixed_fee"})
    await send(sut, "intervention.started", intervention_id, la, {
        "intervention_id": intervention_id, "referral_id": referral_id, "admission_id": str(uuid.uuid4()),
        "team_id": team, "basis": "fixed_fee", "planned_weeks": 6, "start_date": d(started_ago),
        "current_setting": "foster_care"})
    for week in range(6):
        await send(sut, "intervention.session_logged", intervention_id, la, {
            "intervention_id": intervention_id, "session_id": str(uuid.uuid4()),
            "session_date": d(started_ago - 7 * week), "minutes": 90, "with_whom": ["child", "carers"]})
    days = {"6_weeks": 42, "3_months": 91, "6_months": 182}
    for checkpoint, held in follow_ups.items():
        await send(sut, "intervention.follow_up_recorded", intervention_id, la, {
            "intervention_id": intervention_id, "referral_id": referral_id, "checkpoint": checkpoint,
            "due_date": d(started_ago - days[checkpoint]), "held": held,
            "recorded_on": d(started_ago - days[checkpoint]),
            "breakdown_date": None if held else d(started_ago - days[checkpoint] + 3)})
    if outcome:
        await send(sut, "intervention.closed", intervention_id, la, {
            "intervention_id": intervention_id, "referral_id": referral_id, "team_id": team,
            "start_date": d(started_ago), "end_date": d(started_ago - 42), "outcome": outcome,
            "stabilised_on": d(started_ago - stabilised_after) if stabilised_after is not None else None,
            "sessions": 6})
    invoice_id = str(uuid.uuid4())
    await send(sut, "invoice.issued", invoice_id, la, {
        "invoice_id": invoice_id, "fee_period_id": str(uuid.uuid4()), "total_pence": sum(fee_pence),
        "lines": [{"line_id": str(uuid.uuid4()), "line_no": n + 1, "kind": "charge", "stream": "outreach",
                   "rate_key": "outreach", "referral_id": referral_id, "placement_id": None,
                   "from_date": d(started_ago), "to_date": d(started_ago - 41), "days": 42, "weekly_pence": None,
                   "amount_pence": p, "intervention_id": intervention_id} for n, p in enumerate(fee_pence)]})
    return {"referral_id": referral_id, "intervention_id": intervention_id}


async def test_the_outreach_report_counts_held_placements_against_fees_per_intervention_team_and_council(sut):
    # A, team 1: held at every checkpoint, fixed fee £10,000 (then a £500 credit): stabilised on day 20
    a1 = await intervention(sut, A, TEAM_1, "LCC-OR-1", started_ago=200, follow_ups={
        "6_weeks": True, "3_months": True, "6_months": True}, outcome="stabilised", stabilised_after=20,
        fee_pence=[1_000_000, -50_000])
    # A, team 2: broke down before 3 months
    a2 = await intervention(sut, A, TEAM_2, "LCC-OR-2", started_ago=150, follow_ups={
        "6_weeks": True, "3_months": False}, outcome="breakdown", stabilised_after=None, fee_pence=[1_000_000])
    # B, team 1: held at 6 weeks, later checkpoints not yet recorded (open)
    b1 = await intervention(sut, B, TEAM_1, "LC-OR-9", started_ago=60, follow_ups={"6_weeks": True},
                            outcome="stabilised", stabilised_after=30, fee_pence=[1_000_000])
    # B's yearly retainer: a line of no one intervention, on the retainer contract's invoice
    invoice_id = str(uuid.uuid4())
    await send(sut, "invoice.issued", invoice_id, B, {
        "invoice_id": invoice_id, "fee_period_id": str(uuid.uuid4()), "contract_id": str(uuid.uuid4()),
        "total_pence": 200_000, "lines": [{
            "line_id": str(uuid.uuid4()), "line_no": 1, "kind": "charge", "stream": "outreach", "rate_key": "retainer",
            "referral_id": None, "placement_id": None, "from_date": d(90), "to_date": d(61), "days": 30,
            "weekly_pence": None, "amount_pence": 200_000, "intervention_id": None}]})
    window = {"from": d(365), "to": d(0)}

    async def complete():
        r = await sut.client.get("/v1/reports/outreach", params=window, headers=sut.hub())
        assert r.status_code == 200, r.text
        rep = r.json()
        done = rep["all"]["interventions"] == 3 and rep["all"]["fees_paid"] == "31500.00" and \
            sum(i["sessions"] for i in rep["interventions"]) == 18 and rep["all"]["placements_broken_down"] == 1 \
            and rep["all"]["stabilised"] == 2
        return rep if done else None
    rep = await wait_for(complete)
    by_id = {i["intervention_id"]: i for i in rep["interventions"]}
    assert by_id[a1["intervention_id"]]["checkpoints"] == {"6_weeks": "held", "3_months": "held", "6_months": "held"}
    assert by_id[a1["intervention_id"]]["placement"] == "held"
    assert by_id[a1["intervention_id"]]["fees_paid"] == "9500.00"
    assert by_id[a1["intervention_id"]]["breakdown_costs_avoided"] == "50000.00"
    assert by_id[a2["intervention_id"]]["checkpoints"] == {"6_weeks": "held", "3_months": "broke", "6_months": "broke"}
    assert by_id[a2["intervention_id"]]["breakdown_costs_avoided"] == "0.00"
    assert by_id[b1["intervention_id"]]["placement"] == "held"
    assert by_id[b1["intervention_id"]]["checkpoints"]["3_months"] == "pending"
    councils = {c["la_code"]: c for c in rep["councils"]}
    assert councils[A]["placements_held"] == 1 and councils[A]["placements_broken_down"] == 1
    assert councils[A]["fees_paid"] == "19500.00" and councils[A]["breakdown_costs_avoided"] == "50000.00"
    assert councils[A]["net_saving"] == "30500.00" and councils[A]["return_on_investment"] == "1.56"
    assert councils[A]["median_days_to_stabilise"] == "20.0"
    teams = {t["team_id"]: t for t in rep["teams"]}
    assert teams[TEAM_1]["interventions"] == 2 and teams[TEAM_1]["median_days_to_stabilise"] == "25.0"
    assert teams[TEAM_1]["checkpoints"]["6_weeks"] == {"held": 2, "broke": 0, "pending": 0}
    assert councils[B]["retainer_fees"] == "2000.00" and councils[B]["fees_paid"] == "12000.00"
    assert rep["all"]["return_on_investment"] == str(round((100_000 - 31_500) / 31_500, 2))

    # the sufficiency report counts outreach referrals apart from the demand for beds
    async def counted():  # the referrals reach outcomes on their own topic
        r = (await sut.client.get("/v1/reports/sufficiency", headers=sut.hub())).json()
        return r if r["referrals"]["outreach"] == 3 else None
    assert (await wait_for(counted))["referrals"]["total"] == 0

    # the CSV: one row per intervention, team, council and the whole
    as_csv = await sut.client.get("/v1/reports/outreach", params={**window, "format": "csv"}, headers=sut.hub())
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [r["level"] for r in rows].count("intervention") == 3 and rows[-1]["level"] == "all"
    council_a = next(r for r in rows if r["level"] == "council" and r["id"] == A)
    assert council_a["return_on_investment"] == "1.56" and council_a["3_months_broke"] == "1"

    # the hub may name a council by its DfE LA number (855) or its ONS code in any case; an unknown number is 422
    for asked in ("855", A.lower()):
        by_number = await sut.client.get("/v1/reports/outreach", params={**window, "la_code": asked}, headers=sut.hub())
        assert by_number.status_code == 200 and by_number.json()["la_code"] == A, by_number.text
    unknown = await sut.client.get("/v1/reports/sufficiency", params={"la_code": "999"}, headers=sut.hub())
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "query.la_code"
    assert (await sut.client.get("/v1/reports/outreach/settings/855", headers=sut.council(A))).json()["la_code"] == A

    # council B sees only its own interventions, whatever it asks for
    mine = await sut.client.get("/v1/reports/outreach", params={**window, "la_code": A}, headers=sut.council(B))
    assert mine.status_code == 200
    assert [i["intervention_id"] for i in mine.json()["interventions"]] == [b1["intervention_id"]]
    assert a1["referral_id"] not in mine.text and "LCC-OR-1" not in mine.text and A not in mine.text

    # the assumed cost of a breakdown: the default until the council changes it, with If-Match, kept
    setting = await sut.client.get(f"/v1/reports/outreach/settings/{A}", headers=sut.council(A))
    assert setting.status_code == 200 and setting.headers["etag"] == '"0"'
    assert setting.json()["breakdown_cost"] == "50000.00" and setting.json()["default"] is True
    assert (await sut.client.get(f"/v1/reports/outreach/settings/{A}", headers=sut.council(B))).status_code == 404
    url = f"/v1/reports/outreach/settings/{A}"
    missing = await sut.client.put(url, json={"breakdown_cost": "60000.00"}, headers=sut.council(A))
    assert missing.status_code == 428
    bad = await sut.client.put(url, json={"breakdown_cost": "-5"}, headers={"If-Match": '"0"', **sut.council(A)})
    assert bad.status_code == 422 and (bad.json()["errors"][0]["field"], bad.json()["errors"][0]["rule"]) == (
        "body.breakdown_cost", "range")
    other = await sut.client.put(url, json={"breakdown_cost": "60000.00"},
                                 headers={"If-Match": '"0"', **sut.council(B)})
    assert other.status_code == 404
    manager = sut.hub("home_manager", scopes=("outcomes:read",))
    assert (await sut.client.put(url, json={"breakdown_cost": "60000.00"},
                                 headers={"If-Match": '"0"', **manager})).status_code == 403
    changed = await sut.client.put(url, json={"breakdown_cost": "60000.00"},
                                   headers={"If-Match": '"0"', **key(), **sut.council(A)})
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"1"' and changed.json()["breakdown_cost"] == "60000.00"
    assert changed.json()["changes"][0] == {**changed.json()["changes"][0], "from": None, "to": "60000.00",
                                            "changed_by": f"council-{A}", "version": 1}
    stale = await sut.client.put(url, json={"breakdown_cost": "70000.00"}, headers={"If-Match": '"0"', **sut.hub()})
    assert stale.status_code == 412 and stale.headers["etag"] == '"1"'
    again = (await sut.client.get("/v1/reports/outreach", params=window, headers=sut.council(A))).json()
    assert again["breakdown_cost"] == {A: "60000.00"}
    assert again["all"]["breakdown_costs_avoided"] == "60000.00" and again["all"]["net_saving"] == "40500.00"
    hub = (await sut.client.get("/v1/reports/outreach", params=window, headers=sut.hub())).json()
    assert {c["la_code"]: c["breakdown_costs_avoided"] for c in hub["councils"]} == {A: "60000.00", B: "50000.00"}
