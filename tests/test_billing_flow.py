"""Billing end to end through the gateway, on both transports: a child admitted and arrived through the real
APIs is invoiced month by month under a spot contract; each month's charge matches an independent day-by-day
calculation; a back-dated Phase 2 learnt after two closes is adjusted in the next period on lines referring
to the originals, and the stay still adds up to the one-shot charge; bad input names the field and the rule
and stores nothing; councils read only their own invoices, as JSON, CSV and PDF."""
from __future__ import annotations

import csv
import io
import uuid
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
import math

from sqlalchemy import func, select

from services.billing.tables import placements as billing_placements

from .support import wait_for
from .support.assessment import today, admit, arrive, issue_plan, key, new_home

FINANCE_SCOPES = ("billing:write", "invoices:read")
P1, P2 = 520000, 378900


def pounds(p: int) -> str:
    return str(Decimal(p) / 100)


def half_up(x: Fraction) -> int:
    return math.floor(x + Fraction(1, 2))


def charged_before(arrival: date, day: date, phase_2_from: date | None) -> int:
    """Independent: every day from arrival (charged) to `day` (excluded), one at a time, rounded once."""
    total, d = Fraction(0), arrival
    while d < day:
        total += Fraction(P2 if phase_2_from and d >= phase_2_from else P1, 7)
        d += timedelta(days=1)
    return half_up(total)


def month_starts(first: date, before: date) -> list[date]:
    out, m = [], first.replace(day=1)
    while m < before.replace(day=1):
        out.append(m)
        m = (m + timedelta(days=32)).replace(day=1)
    return out


def money(p: int) -> dict:
    return {"amount": f"{p / 100:.2f}", "currency": "GBP"}


async def billing_knows(sut, placement_id: str, phase_2: bool = False):
    async def known():
        async with sut.runtime("billing").db.session() as session:
            row = (await session.execute(select(billing_placements).where(
                billing_placements.c.id == placement_id))).mappings().first()
        if row is None:
            return None
        return row if not phase_2 or any(t[1] == "phase_2" for t in row["transitions"]) else None
    return await wait_for(known)


def amount(x: dict) -> int:
    assert x["currency"] == "GBP"
    return int(Decimal(x["amount"]) * 100)


async def test_a_placement_is_invoiced_month_by_month_and_a_back_dated_phase_2_is_adjusted(sut):
    finance = sut.hub("finance", scopes=FINANCE_SCOPES)
    home = await new_home(sut)
    placement = await admit(sut, home)
    arrival = today() - timedelta(days=130)
    await arrive(sut, placement, days_ago=130)
    # billing has the arrival before the contract is made (the fee notices counted below are those of that order:
    # under load an arrival handled after the contract moves the fee's effective date once more)
    await billing_knows(sut, placement["id"])

    # bad input: a problem naming the field and the rule, nothing stored
    contract_body = {"la_code": "E10000018", "name": "Spot purchase 2025", "form": "spot",
                     "start_date": str(arrival - timedelta(days=365))}
    r = await sut.client.post("/v1/contracts", headers=finance,
                              json={**contract_body, "end_date": str(arrival - timedelta(days=366))})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.end_date"
    assert r.json()["errors"][0]["rule"] == "end_not_before_start"
    r = await sut.client.post("/v1/contracts", headers={**key(), **finance}, json=contract_body)
    assert r.status_code == 201, r.text
    contract = r.json()
    schedule = {"effective_from": contract_body["start_date"], "phase_1_weekly": money(P1), "phase_2_weekly": money(P2)}
    for bad, field, rule in [({"phase_1_weekly": {"amount": "5200.00", "currency": "EUR"}},
                              "body.phase_1_weekly.currency", "currency_gbp"),
                             ({"phase_2_weekly": {"amount": "3789.005", "currency": "GBP"}},
                              "body.phase_2_weekly.amount", "whole_pence")]:
        r = await sut.client.post(f"/v1/contracts/{contract['id']}/fee-schedules", headers=finance,
                                  json={**schedule, **bad})
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
        assert (r.json()["errors"][0]["field"], r.json()["errors"][0]["rule"]) == (field, rule)
    r = await sut.client.post(f"/v1/contracts/{contract['id']}/fee-schedules", headers={**key(), **finance},
                              json=schedule)
    assert r.status_code == 201 and r.headers["etag"] == '"2"', r.text
    r = await sut.client.post(f"/v1/contracts/{contract['id']}/fee-schedules", headers=finance,
                              json={**schedule, "effective_from": str(arrival)})
    assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "no_overlap"
    listed = (await sut.client.get("/v1/contracts", headers=finance)).json()["items"]
    assert len(listed) == 1 and len(listed[0]["fee_schedules"]) == 1  # nothing stored half-way
    mine = await sut.client.get(f"/v1/contracts/{contract['id']}", headers=sut.council())
    assert mine.status_code == 200 and mine.json()["fee_schedules"][0]["phase_1_weekly"] == money(P1)
    assert (await sut.client.get(f"/v1/contracts/{contract['id']}", headers=sut.council("E10000019"))).status_code == 404
    assert (await sut.client.post("/v1/contracts", headers=sut.council(), json=contract_body)).status_code == 403

    await billing_knows(sut, placement["id"])
    months = month_starts(arrival, today())
    assert len(months) >= 4

    async def close(start: date, headers=None):
        return await sut.client.post("/v1/fee-periods/close", headers={**key(), **(headers or finance)},
                                     json={"period_start": str(start)})

    invoices = []
    for m in months[:2]:
        r = await close(m)
        assert r.status_code == 200, r.text
        assert [i["la_code"] for i in r.json()["invoices"]] == ["E10000018"]
        invoices.append(r.json()["invoices"][0])
    # closing again answers the same period and invoices; out of order is refused; a running month too
    again = await close(months[1])
    assert again.status_code == 200 and again.json()["invoices"] == [invoices[1]]
    skipped = await close(months[3])
    assert skipped.status_code == 422 and skipped.json()["errors"][0] == {
        "field": "body.period_start", "rule": "closed_in_order",
        "message": f"periods of calendar_month are closed in order: the next to close starts {months[2]}"}
    assert (await close(months[2] + timedelta(days=3))).json()["errors"][0]["rule"] == "period_boundary"
    running = await close(today().replace(day=1))
    assert running.status_code == 422 and running.json()["errors"][0]["rule"] == "period_ended"
    assert [i["number"] for i in invoices] == ["INV-E10000018-000001", "INV-E10000018-000002"]

    def month_end(m: date) -> date:
        return (m + timedelta(days=32)).replace(day=1)

    for inv, m in zip(invoices, months):
        expected = charged_before(arrival, month_end(m), None) - charged_before(arrival, m, None)
        assert amount(inv["total"]) == expected

    # Phase 2 recorded now, back-dated to day 29: the closed invoices never change; the next period adjusts
    await issue_plan(sut, placement)
    phase_2_from = arrival + timedelta(days=28)
    moved = await sut.client.post(f"/v1/placements/{placement['id']}/phase-2", headers={**key(), **sut.hub()},
                                  json={"effective_date": str(phase_2_from), "reason": "IPP agreed at day 28"})
    assert moved.status_code == 200, moved.text
    await billing_knows(sut, placement["id"], phase_2=True)
    before = [(await sut.client.get(f"/v1/invoices/{i['id']}", headers=finance)).json() for i in invoices]
    third = await close(months[2])
    assert third.status_code == 200, third.text
    inv3 = (await sut.client.get(f"/v1/invoices/{third.json()['invoices'][0]['id']}", headers=finance)).json()
    after = [(await sut.client.get(f"/v1/invoices/{i['id']}", headers=finance)).json() for i in invoices]
    assert before == after  # a closed invoice never changes
    charges = [line for line in inv3["lines"] if line["kind"] == "charge"]
    adjustments = [line for line in inv3["lines"] if line["kind"] == "adjustment"]
    new = lambda m: charged_before(arrival, month_end(m), phase_2_from) - charged_before(arrival, m, phase_2_from)
    old = lambda m: charged_before(arrival, month_end(m), None) - charged_before(arrival, m, None)
    assert sum(amount(line["amount"]) for line in charges) == new(months[2])
    assert sum(amount(line["amount"]) for line in adjustments) == sum(new(m) - old(m) for m in months[:2])
    originals = {line["id"]: (inv["number"], line) for inv in after for line in inv["lines"]}
    for adj in adjustments:
        number, original = originals[adj["refers_to"]["line_id"]]
        assert adj["refers_to"]["invoice_number"] == number and adj["refers_to"]["line_no"] == original["line_no"]
        assert (adj["from_date"], adj["to_date"]) == (original["from_date"], original["to_date"])
    total = sum(amount(i["total"]) for i in invoices) + amount(inv3["total"])
    assert total == charged_before(arrival, month_end(months[2]), phase_2_from)  # the one-shot charge, to the penny
    line = charges[0]
    assert line["child_ref"] == "LCC-T-1" and line["home_id"] == home["id"] and line["daily_rate"] == "541.2857"
    assert line["weekly_fee"] == money(P2) and "name" not in line

    # councils read only their own invoices; downloads as JSON, CSV and PDF
    assert (await sut.client.get(f"/v1/invoices/{inv3['id']}", headers=sut.council())).status_code == 200
    assert (await sut.client.get(f"/v1/invoices/{inv3['id']}", headers=sut.council("E10000019"))).status_code == 404
    assert (await sut.client.get("/v1/invoices", headers=sut.council("E10000019"))).json()["items"] == []
    assert len((await sut.client.get("/v1/invoices", headers=sut.council())).json()["items"]) == 3
    base = f"/v1/invoices/{inv3['id']}/download"
    as_csv = await sut.client.get(f"{base}/csv", headers=sut.council())
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert as_csv.headers["content-type"].startswith("text/csv") and len(rows) == len(inv3["lines"]) + 1
    assert rows[-1]["kind"] == "total" and rows[-1]["amount"] == inv3["total"]["amount"]
    pdf = await sut.client.get(f"{base}/pdf", headers=sut.council())
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and len(pdf.content) > 1000
    as_json = await sut.client.get(f"{base}/json", headers=sut.council())
    assert as_json.json()["number"] == inv3["number"]
    assert (await sut.client.get(f"{base}/pdf", headers=sut.council("E10000019"))).status_code == 404

    # the events: fee_period.closed per close, invoice.issued per invoice (to the council, by webhook)
    async with sut.runtime("billing").db.session() as session:
        outbox = sut.runtime("billing").tables[0]
        counts = dict((await session.execute(select(outbox.c.event_type, func.count()).group_by(
            outbox.c.event_type))).all())
    # and placement.fee_applied whenever the weekly fee that applies changed: no contract at acceptance, a
    # contract without a schedule, the Phase 1 fee from the schedule, the Phase 2 fee from the transition
    assert counts == {"fee_period.closed": 3, "invoice.issued": 3, "placement.fee_applied": 4}
    shown = (await sut.client.get(f"/v1/placements/{placement['id']}", headers=sut.hub())).json()
    assert shown["weekly_fee"] == money(P2) and shown["weekly_fee_applied"]["basis"] == "phase_2"
    assert shown["weekly_fee_applied"]["effective_from"] == str(phase_2_from)
