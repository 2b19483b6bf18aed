"""Billing end to end on the blueprint scenario, on both transports: the blueprint seed gives the council a spot
contract and fee schedule and the home a cost base (through billing's API); children A-D, charged month by
month as finance closes each month, match an independent day-by-day calculation here; the weekly fee that
applies today shows on each admission and placement (placement.fee_applied, from billing); a council with no
contract shows no fee (null, and why) until its contract and schedule are made; the home's viability reaches
break-even."""
from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from itp.blueprint import MONTHLY_COST, PHASE_1_WEEKLY, PHASE_2_WEEKLY, Blueprint, arrivals, cost_months
from services.matching.seed import BLUEPRINT_HOME_ID, seed_blueprint_home
from services.matching.tables import metadata as matching_metadata

from .support import wait_for
from .support.assessment import admit, key, new_home

FINANCE = ("billing:write", "invoices:read")


def half_up(x: Fraction) -> int:
    return math.floor(x + Fraction(1, 2))


def charged_before(arrival: date, leaving: date | None, day: date) -> int:
    """Independent: each day from arrival (charged) up to `day` and before the leaving day (not charged), one
    at a time, Phase 1 for days 1-28 and Phase 2 from day 29, rounded once at the end."""
    total, d = Fraction(0), arrival
    while d < day and (leaving is None or d < leaving):
        total += Fraction(PHASE_2_WEEKLY if (d - arrival).days >= 28 else PHASE_1_WEEKLY, 7)
        d += timedelta(days=1)
    return half_up(total)


def pence(money: dict) -> int:
    assert money["currency"] == "GBP"
    return int(Decimal(money["amount"]) * 100)


def next_month(m: date) -> date:
    return (m + timedelta(days=32)).replace(day=1)


async def shown_fee(sut, url: str, params: dict | None = None, want: str | None = None) -> dict:
    async def told():
        r = await sut.client.get(url, headers=sut.hub(), params=params or {})
        assert r.status_code == 200, r.text
        body = r.json()
        item = body["items"][0] if "items" in body else body
        applied = item["weekly_fee_applied"]
        return item if applied is not None and (want is None or applied["basis"] == want) else None
    return await wait_for(told)


async def test_the_blueprint_children_are_charged_month_by_month_and_show_the_weekly_fee(sut):
    matching = sut.runtime("matching")
    await seed_blueprint_home(matching.db, matching_metadata.tables["outbox"])
    today = date.today()
    ids = await Blueprint(sut.client, sut.hub(), sut.council("E10000018"), today).run()
    when = arrivals(today)
    leaving = {"A": when["D"]}
    finance = sut.hub("finance", scopes=FINANCE)

    # the weekly fee that applies today, on each placement and its admission
    expected = {"A": ("phase_2", PHASE_2_WEEKLY), "B": ("phase_2", PHASE_2_WEEKLY),
                "C": ("phase_2", PHASE_2_WEEKLY), "D": ("phase_1", PHASE_1_WEEKLY)}
    for name, pid in ids.items():
        basis, weekly = expected[name]
        placement = await shown_fee(sut, f"/v1/placements/{pid}", want=basis)
        assert pence(placement["weekly_fee"]) == weekly, (name, placement["weekly_fee"])
        phase_from = when[name] + timedelta(days=28) if basis == "phase_2" else when[name]
        assert placement["weekly_fee_applied"]["effective_from"] == str(phase_from)
        admission = await shown_fee(sut, "/v1/admissions", {"referral_id": placement["referral_id"]}, want=basis)
        assert admission["id"] == placement["admission_id"] and pence(admission["weekly_fee"]) == weekly
        assert admission["weekly_fee_applied"]["contract_id"] == placement["weekly_fee_applied"]["contract_id"]

    # finance closes every month of the story; each child's charge per month matches the day-by-day figure
    months = [m for m in cost_months(today) if next_month(m) <= today]
    assert len(months) >= 12
    for m in months:
        r = await sut.client.post("/v1/fee-periods/close", headers={**key(), **finance},
                                  json={"period_start": str(m)})
        assert r.status_code == 200, r.text
        invoices = r.json()["invoices"]
        lines = []
        for inv in invoices:
            got = await sut.client.get(f"/v1/invoices/{inv['id']}", headers=finance)
            lines += got.json()["lines"]
        charged = {name: 0 for name in ids}
        for line in lines:
            assert line["kind"] == "charge" and line["home_id"] == BLUEPRINT_HOME_ID
            charged[line["child_ref"].removeprefix("BLUEPRINT-")] += pence(line["amount"])
        for name in ids:
            want = charged_before(when[name], leaving.get(name), next_month(m)) - \
                charged_before(when[name], leaving.get(name), m)
            assert charged[name] == want, (m, name, charged[name], want)
        assert sum(pence(i["total"]) for i in invoices) == sum(charged.values())

    # the home's viability: the cost base the blueprint entered, and the month it reaches break-even
    r = await sut.client.get(f"/v1/viability/homes/{BLUEPRINT_HOME_ID}", headers=finance,
                             params={"from": f"{months[0]:%Y-%m}", "to": f"{months[-1]:%Y-%m}"})
    assert r.status_code == 200, r.text
    view = r.json()
    assert all(m["cost_pence"] == MONTHLY_COST for m in view["months"])
    assert view["first_month_at_break_even"] is not None
    assert view["first_month_at_break_even"] > str(months[0])  # one child alone does not cover the cost


async def test_without_a_contract_the_fee_is_null_and_visible_until_the_council_has_one(sut):
    home = await new_home(sut)
    placement = await admit(sut, home, la_code="E06000016")
    shown = await shown_fee(sut, f"/v1/placements/{placement['id']}")
    assert shown["weekly_fee"] is None and shown["weekly_fee_applied"]["basis"] == "no_contract"
    admission = await shown_fee(sut, "/v1/admissions", {"referral_id": placement["referral_id"]})
    assert admission["weekly_fee"] is None and admission["weekly_fee_applied"]["basis"] == "no_contract"

    finance = sut.hub("finance", scopes=FINANCE)
    start = date.today() - timedelta(days=30)
    r = await sut.client.post("/v1/contracts", headers={**key(), **finance},
                              json={"la_code": "E06000016", "name": "Blended 2026", "form": "blended",
                                    "start_date": str(start)})
    assert r.status_code == 201, r.text
    shown = await shown_fee(sut, f"/v1/placements/{placement['id']}", want="unpriced")  # a contract, no schedule
    assert shown["weekly_fee"] is None and shown["weekly_fee_applied"]["contract_id"] == r.json()["id"]
    s = await sut.client.post(f"/v1/contracts/{r.json()['id']}/fee-schedules", headers={**key(), **finance},
                              json={"effective_from": str(start),
                                    "blended_weekly": {"amount": "4500.00", "currency": "GBP"}})
    assert s.status_code == 201, s.text
    shown = await shown_fee(sut, f"/v1/placements/{placement['id']}", want="blended")
    assert shown["weekly_fee"] == {"amount": "4500.00", "currency": "GBP"}
    assert shown["weekly_fee_applied"]["effective_from"] == str(date.today())  # the planned start: today
    admission = await shown_fee(sut, "/v1/admissions", {"referral_id": placement["referral_id"]}, want="blended")
    assert admission["weekly_fee"] == {"amount": "4500.00", "currency": "GBP"}
