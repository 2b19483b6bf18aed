"""Outreach (issue 16) through the real APIs: an outreach team, a council's outreach referral, the hub's
ranking of teams and its acceptance. Shared by the outreach tests of every service (referral and matching here;
interventions, fees and outcomes build on accept_outreach)."""
from __future__ import annotations

import uuid
from datetime import date, timedelta

from itp.testing import wait_for

from . import today

LEICS, LEICESTER = "E10000018", "E06000016"
PROVIDER_SCOPES = ("homes:write", "homes:read")


def key() -> dict:
    return {"Idempotency-Key": str(uuid.uuid4())}


def team_body(name: str | None = None, **extra) -> dict:
    """A team based in Leicester (LE4) reaching 30 miles, 3 practitioners, a caseload of 6."""
    return {"name": name or f"Outreach team {uuid.uuid4().hex[:8]}", "region": "east_midlands",
            "base_postcode_district": "LE4", "practitioners": 3, "caseload_limit": 6, "reach_miles": 30,
            "specialisms": ["child_sexual_exploitation", "family_work"], **extra}


async def create_team(sut, name: str | None = None, **extra) -> dict:
    r = await sut.client.post("/v1/outreach-teams", json=team_body(name, **extra), headers={**key(), **sut.hub()})
    assert r.status_code == 201, r.text
    return r.json()


def outreach_body(**extra) -> dict:
    """A 14-year-old living with a foster carer in LE3 whose placement is at risk of breaking down."""
    return {"kind": "outreach", "child_ref": f"LCC-OUT-{uuid.uuid4().hex[:6]}",
            "date_of_birth": str(today().replace(year=today().year - 14) - timedelta(days=40)), "sex": "female",
            "home_postcode": "LE3 9QG", "urgency": "urgent", "current_setting": "foster_care",
            "at_risk": ["placement_breakdown", "school_place"], "outreach_basis": "fixed_fee",
            "needs": [{"code": "trauma", "severity": "medium"}],
            "risks": [{"code": "sexual_exploitation_risk", "severity": "high"}],
            "social_worker": {"name": "Sam Patel", "email": "sam.patel@leics.gov.uk"}, **extra}


async def refer_outreach(sut, la_code: str = LEICS, **extra) -> str:
    """A council refers a child for outreach (POST /v1/referrals, kind outreach); answers the referral id."""
    r = await sut.client.post("/v1/referrals", json=outreach_body(**extra), headers={**key(), **sut.council(la_code)})
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def ranked_teams(sut, referral_id: str) -> dict:
    """The hub's ranking of outreach teams for the referral, once matching has heard of it."""
    async def ready():
        r = await sut.client.get(f"/v1/referrals/{referral_id}/matches", headers=sut.hub())
        return r if r.status_code == 200 else None
    answer = (await wait_for(ready)).json()
    assert answer["kind"] == "outreach", answer
    return answer


async def accept_outreach(sut, referral_id: str, team_id: str, *, basis: str | None = None,
                          planned_weeks: int | None = None, start: date | None = None) -> dict:
    """The hub accepts an outreach referral for a team (POST /v1/admissions with team_id); answers the decision
    (its id is outreach.accepted's admission_id). As the hub does, a ranking that changed between the read and
    the decision is read again."""
    async def decided():
        ranking = await ranked_teams(sut, referral_id)
        body = {"referral_id": referral_id, "decision": "accept", "team_id": team_id,
                "planned_start_date": str(start or today()),
                "impact_risk_assessment_id": ranking["impact_risk_assessment_id"]}
        if basis is not None:
            body["outreach_basis"] = basis
        if planned_weeks is not None:
            body["planned_weeks"] = planned_weeks
        r = await sut.client.post("/v1/admissions", headers={**key(), **sut.hub()}, json=body)
        if r.status_code == 422 and r.json()["errors"][0]["rule"] == "unknown_impact_risk_assessment":
            return None
        return r
    accepted = await wait_for(decided)
    assert accepted.status_code == 201, accepted.text
    return accepted.json()


async def referral_status(sut, referral_id: str, status: str, la_code: str = LEICS) -> dict:
    """The council's referral once it reaches `status` (the decision travels by event)."""
    async def reached():
        r = await sut.client.get(f"/v1/referrals/{referral_id}", headers=sut.council(la_code))
        return r.json() if r.status_code == 200 and r.json()["status"] == status else None
    return await wait_for(reached)


async def emit_as(sut, service: str, *events: tuple) -> list[str]:
    """Events (payload, subject id, council) from `service`'s own outbox over the real transport, as that
    service would send them (for example assessment's placement.ended or intervention.closed); their ids."""
    async with sut.runtime(service).uow() as uow:
        sent = await uow.emit_many(list(events))
        await uow.commit()
    return [str(e.id) for e in sent]


async def handled(sut, service: str, event_ids: list[str]) -> None:
    """Wait until `service` has handled every one of the events (its inbox holds their ids)."""
    from sqlalchemy import select
    rt = sut.runtime(service)
    inbox = rt.tables[1]

    async def done():
        async with rt.db.session() as session:
            seen = set((await session.execute(select(inbox.c.event_id).where(
                inbox.c.event_id.in_(event_ids)))).scalars())
        return seen == set(event_ids)
    await wait_for(done)
