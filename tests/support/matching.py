"""Homes onboarded and referrals ranked through the real APIs."""
from __future__ import annotations

import uuid
from datetime import timedelta

from services.matching.domain.beds import ONBOARDING_CHECKLIST

from itp.testing import wait_for

from . import today

PROVIDER_SCOPES = ("homes:write", "homes:read")


def home_body(urn: str, postcode: str = "LE4 1AB", **extra) -> dict:
    return {"urn": urn, "name": f"Home {urn}", "address": "1 Test Lane, Leicester", "postcode": postcode,
            "registered_places": 3, "age_min": 10, "age_max": 17, "sexes": ["female", "male"],
            "categories": ["emotional_behavioural_difficulties", "mental_disorders"],
            "specialisms": ["complex_mental_health"], "registered_manager": "R. Manager",
            "ofsted_rating": "good", "inspection_date": "2026-05-14", **extra}


def referral_body(**extra) -> dict:
    return {"child_ref": "LCC-T-1", "date_of_birth": str(today().replace(year=today().year - 14) - timedelta(days=30)),
            "sex": "female", "home_postcode": "LE4 6AB", "urgency": "crisis", "wanted_start_date": str(today()),
            "needs": [{"code": "mental_health", "severity": "high"}],
            "risks": [{"code": "missing_episodes", "severity": "medium"}],
            "social_worker": {"name": "Sam Patel", "email": "sam.patel@leics.gov.uk"}, **extra}


async def onboard_live_home(sut, urn: str, **extra) -> dict:
    provider = sut.hub("provider_admin", scopes=PROVIDER_SCOPES)
    created = await sut.client.post("/v1/homes", json=home_body(urn, **extra), headers=provider)
    assert created.status_code == 201, created.text
    home = created.json()
    for item in ONBOARDING_CHECKLIST:
        r = await sut.client.put(f"/v1/homes/{home['id']}/checklist/{item}", json={"done": True}, headers=provider)
        assert r.status_code == 200, r.text
    live = await sut.client.post(f"/v1/homes/{home['id']}/go-live", headers=provider)
    assert live.status_code == 200, live.text
    return live.json()


async def refer(sut, la_code="E10000018", **extra) -> str:
    r = await sut.client.post("/v1/referrals", json=referral_body(**extra),
                              headers={"Idempotency-Key": uuid.uuid4().hex, **sut.council(la_code)})
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def ranked(sut, referral_id: str) -> dict:
    async def ready():
        r = await sut.client.get(f"/v1/referrals/{referral_id}/matches", headers=sut.hub())
        return r if r.status_code == 200 else None
    return (await wait_for(ready)).json()
