"""GET /v1/referrals/{id}/matches: the impact risk assessment for one referral, for the hub.

The answer is deterministic: it carries no clock time, only the as_of date, the rules version and the
weights, and its id is the hash of its content. Each distinct answer is stored (so a decision can cite
it) and announced once as match.assessed.
"""
from __future__ import annotations

import hashlib
import json
import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from libs.common.audit import touched
from libs.common.auth import Authorize, Principal
from libs.common.errors import NotFound
from libs.common.events.catalogue import MatchAssessed
from libs.common.web import runtime_of

from .domain.assessment import Assessment, assess
from .domain.model import Child, age_on
from .domain.rules import load_rules
from .repository import HomesSnapshot, child_codes, lapse_reservations, utcnow
from .schemas import MatchRanking
from .settings import MatchingSettings
from .tables import match_assessments, referrals

router = APIRouter(tags=["matching"])


def snapshot_of(request: Request) -> HomesSnapshot:
    state = request.app.state
    if getattr(state, "homes_snapshot", None) is None:
        state.homes_snapshot = HomesSnapshot()
    return state.homes_snapshot


def canonical(body: dict) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


async def sweep(request: Request) -> None:
    await lapse_reservations(runtime_of(request))


async def assess_referral(request: Request, session, referral: dict, as_of: date) -> Assessment:
    child = Child(ref=referral["id"], age=age_on(referral["date_of_birth"], as_of), sex=referral["sex"],
                  codes=child_codes(referral["needs"], referral["risks"]), outward_code=referral["home_outward_code"])
    homes = await snapshot_of(request).homes(session, as_of)
    return assess(child, homes, load_rules())


def answer(referral: dict, assessment: Assessment, as_of: date, limit: int) -> tuple[dict, str]:
    body = assessment.to_dict(limit=limit)
    body.update(referral_status=referral["status"], received_at=referral["received_at"].isoformat(),
                as_of=as_of.isoformat())
    assessment_id = hashlib.sha256(canonical(body)).hexdigest()
    return {"assessment_id": assessment_id, **body}, assessment_id


async def record(request: Request, referral: dict, assessment: Assessment, body: dict) -> None:
    """Store an answer the first time it is shown and announce it (match.assessed)."""
    runtime = runtime_of(request)
    async with runtime.db.session() as session:
        if (await session.execute(select(match_assessments.c.id)
                                  .where(match_assessments.c.id == body["assessment_id"]))).first():
            return
    try:
        async with runtime.uow() as uow:
            await uow.session.execute(match_assessments.insert().values(
                id=body["assessment_id"], referral_id=referral["id"], rules_version=body["rules_version"],
                body=canonical(body).decode(), created_at=utcnow()))
            top = assessment.ranked[0].home.id if assessment.ranked else None
            await uow.emit(MatchAssessed(referral_id=uuid.UUID(referral["id"]), rules_version=body["rules_version"],
                                         homes_considered=assessment.homes_considered,
                                         homes_ranked=len(assessment.ranked),
                                         top_home_id=uuid.UUID(top) if top else None),
                           subject_id=referral["id"], la_code=referral["la_code"])
            await uow.commit()
    except IntegrityError:
        pass  # another request stored the same answer at the same moment


@router.get("/v1/referrals/{referral_id}/matches", response_model=MatchRanking,
            summary="The impact risk assessment: homes ranked for a referral")
async def get_matches(referral_id: uuid.UUID, request: Request,
                      principal: Annotated[Principal, Authorize("matches:read", councils=False)],
                      limit: Annotated[int | None, Query(ge=1, le=500)] = None,
                      as_of: Annotated[date | None, Query(description="Ages counted on this day (default today)")] = None):
    """For the hub: hard limits first (with how many homes each excluded), then each remaining home
    scored against every current resident, explained term by term. 404 until matching has received
    the referral's event."""
    await sweep(request)
    as_of = as_of or utcnow().date()
    limit = limit or MatchingSettings().default_options
    async with runtime_of(request).db.session() as session:
        row = (await session.execute(select(referrals).where(referrals.c.id == str(referral_id)))).mappings().first()
        if row is None:
            raise NotFound("referral")
        referral = dict(row)
        assessment = await assess_referral(request, session, referral, as_of)
    body, _ = answer(referral, assessment, as_of, limit)
    await record(request, referral, assessment, body)
    touched(request, referral_id, *(r["referral_id"] for o in body["options"] for r in o["resident_risks"]))
    return Response(content=canonical(body), media_type="application/json")
