"""Helpers for the assessment tests: a child admitted through the real APIs (refer, rank, accept)."""
from __future__ import annotations

import uuid
from datetime import timedelta

from itp.testing import wait_for

from . import today
from .matching import onboard_live_home, ranked, refer

SECTIONS = {"needs_and_history_summary": "Needs and history (coded summary).",
            "safety_and_risk_plan": "Safety and risk plan agreed with the council.",
            "therapeutic_plan": "Weekly therapy with the therapeutic lead.",
            "education_plan": "Return to full-time education.", "health_plan": "GP, dentist, CAMHS.",
            "family_and_network": "Contact plan with family.", "step_down_goals": "Step across to foster care."}


def days(n: int) -> str:
    return str(today() + timedelta(days=n))


def key() -> dict:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def new_home(sut) -> dict:
    return await onboard_live_home(sut, f"SC{uuid.uuid4().int % 900000 + 100000}")


async def every_page(sut, url: str, headers: dict, limit: int = 200, **params) -> list[dict]:
    """Walk a paged listing ({items, next_cursor}) to its end; answers every item in order."""
    out, cursor = [], None
    while True:
        r = await sut.client.get(url, headers=headers,
                                 params={**params, "limit": limit, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        out += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return out


async def admit(sut, home: dict, la_code: str = "E10000018", **referral) -> dict:
    """Refer, rank and accept a child into the home's Pathway Bed; answers the pending placement. Extra
    keyword arguments change the referral's fields."""
    referral_id = await refer(sut, la_code=la_code, **referral)

    async def decided():
        # as the hub does: if the ranking changed since it was read (an earlier child's events reached
        # matching meanwhile), the decision is refused naming the rule; read the ranking again and decide
        ranking = await ranked(sut, referral_id)
        r = await sut.client.post("/v1/admissions", headers={**key(), **sut.hub()},
                                  json={"referral_id": referral_id, "decision": "accept", "home_id": home["id"],
                                        "planned_start_date": str(today()), "assessment_id": ranking["assessment_id"]})
        if r.status_code == 422 and r.json()["errors"][0]["rule"] == "unknown_impact_risk_assessment":
            return None
        return r
    accepted = await wait_for(decided)
    assert accepted.status_code == 201, accepted.text

    async def created():
        listed = await every_page(sut, "/v1/placements", sut.hub(), home=home["id"])
        return next((p for p in listed if p["referral_id"] == referral_id), None)
    return await wait_for(created)


async def arrive(sut, placement: dict, days_ago: int = 0) -> dict:
    r = await sut.client.post(f"/v1/placements/{placement['id']}/arrival", headers={**key(), **sut.hub()},
                              json={"arrival_date": days(-days_ago), "key_worker": "KW-17",
                                    "therapeutic_lead": "TL-3"})
    assert r.status_code == 200, r.text
    return r.json()


async def issue_plan(sut, placement: dict) -> dict:
    plan = await sut.client.get(f"/v1/placements/{placement['id']}/plan", headers=sut.hub())
    assert plan.status_code == 200, plan.text
    edited = await sut.client.patch(f"/v1/plans/{plan.json()['id']}", json={"sections": SECTIONS},
                                    headers={"If-Match": plan.headers["etag"], **sut.hub()})
    assert edited.status_code == 200, edited.text
    issued = await sut.client.post(f"/v1/plans/{plan.json()['id']}/issue", headers={**key(), **sut.hub()})
    assert issued.status_code == 200, issued.text
    return issued.json()
