"""Racing accepts on Postgres: exactly one wins the Pathway Bed, the others answer 409."""
from __future__ import annotations

import asyncio
from datetime import date

import pytest

from .support.matching import onboard_live_home, ranked, refer


@pytest.mark.parametrize("system_overrides", ["kafka-postgres"], indirect=True)
async def test_accepts_racing_for_one_pathway_bed_let_exactly_one_win(sut):
    home = await onboard_live_home(sut, "SC200001")
    referrals = [await refer(sut) for _ in range(5)]
    for r in referrals:
        await ranked(sut, r)

    async def accept(referral_id):
        return await sut.client.post("/v1/admissions", headers=sut.hub(), json={
            "referral_id": referral_id, "decision": "accept", "home_id": home["id"],
            "planned_start_date": str(date.today())})

    answers = await asyncio.gather(*(accept(r) for r in referrals))
    codes = sorted(a.status_code for a in answers)
    assert codes == [201, 409, 409, 409, 409], [a.text for a in answers]
    loser = next(a for a in answers if a.status_code == 409)
    assert loser.headers["content-type"] == "application/problem+json"
    beds = (await sut.client.get(f"/v1/homes/{home['id']}/beds", headers=sut.hub())).json()["items"]
    assert [b["state"] for b in beds].count("reserved") == 1


@pytest.mark.parametrize("system_overrides", ["kafka-postgres"], indirect=True)
async def test_one_referral_accepted_into_two_homes_at_once_is_accepted_once(sut):
    homes = [await onboard_live_home(sut, urn) for urn in ("SC200002", "SC200003")]
    referral_id = await refer(sut)
    await ranked(sut, referral_id)
    answers = await asyncio.gather(*(sut.client.post("/v1/admissions", headers=sut.hub(), json={
        "referral_id": referral_id, "decision": "accept", "home_id": h["id"],
        "planned_start_date": str(date.today())}) for h in homes))
    assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
    reserved = 0
    for h in homes:
        beds = (await sut.client.get(f"/v1/homes/{h['id']}/beds", headers=sut.hub())).json()["items"]
        reserved += [b["state"] for b in beds].count("reserved")
    assert reserved == 1


async def test_a_reservation_lapses_when_the_child_has_not_arrived_and_the_bed_is_free_again(sut):
    from datetime import datetime, timedelta, timezone

    from services.matching.scheduled import lapse_reservations

    home = await onboard_live_home(sut, "SC200004")
    referral_id = await refer(sut)
    await ranked(sut, referral_id)
    accepted = await sut.client.post("/v1/admissions", headers=sut.hub(), json={
        "referral_id": referral_id, "decision": "accept", "home_id": home["id"],
        "planned_start_date": str(date.today())})
    assert accepted.status_code == 201
    runtime = sut.runtime("matching")
    later = datetime.now(timezone.utc) + timedelta(days=3)
    assert await lapse_reservations(runtime, later) == 1
    assert await lapse_reservations(runtime, later) == 0  # a second replica sweeping the same moment: nothing to do
    beds = (await sut.client.get(f"/v1/homes/{home['id']}/beds", headers=sut.hub())).json()["items"]
    assert [(b["state"], b["is_pathway"]) for b in beds if b["id"] == accepted.json()["bed_id"]] == [("vacant", True)]
    lapsed = (await sut.client.get(f"/v1/admissions/{accepted.json()['id']}", headers=sut.hub())).json()
    assert lapsed["status"] == "lapsed"
    again = await ranked(sut, referral_id)
    assert again["referral_status"] == "awaiting_decision" and again["homes_ranked"] == 1
