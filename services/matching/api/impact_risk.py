"""The impact risk assessment of one referral, for the hub.

GET /v1/referrals/{id}/matches shows it and changes nothing (no store, no event, no status change).
POST /v1/referrals/{id}/matches records the answer the hub has seen: it is stored (so a decision can cite
it) and announced once as impact_risk.assessed, which moves the referral to in_assessment. The answer is
deterministic: it carries no clock time, only the as_of date, the rules version and the weights, and its
id is the hash of its content.
"""
from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, ConfigDict, Field

from libs.common.audit import touched
from libs.common.auth import Authorize, Principal
from libs.common.http import IdempotencyKey, Written, write

from .. import service
from ..domain.impact_risk import canonical
from ..schemas import ImpactRiskAssessmentOut, TeamRankingOut

router = APIRouter(tags=["matching"])

ReadMatches = Annotated[Principal, Authorize("matches:read", councils=False)]
RecordMatches = Annotated[Principal, Authorize("admissions:write", roles=("hub",), councils=False)]

Limit = Annotated[int | None, Query(ge=1, le=500, description="How many ranked homes to show (default 10)")]
AsOf = Annotated[date | None, Query(description="Ages counted on this day (default today), YYYY-MM-DD")]


@router.get("/v1/referrals/{referral_id}/matches", response_model=ImpactRiskAssessmentOut | TeamRankingOut,
            summary="The impact risk assessment: homes ranked for a referral (a read: records nothing)")
async def get_matches(referral_id: uuid.UUID, request: Request, principal: ReadMatches, limit: Limit = None,
                      as_of: AsOf = None):
    """For the hub: hard limits first (with how many homes each excluded, and why each listed home was),
    then each remaining home scored against every current resident, explained term by term. Reading it
    changes nothing: to record that the hub has assessed the referral (and tell the council), POST the
    same URL. 404 until matching has received the referral's event. For an outreach referral (issue 16) the
    answer ranks outreach teams instead (`kind: outreach`): suspended, full and out-of-reach teams excluded and
    explained, the rest by capacity left, distance and specialism fit."""
    now = service.utcnow()
    async with request.app.state.runtime.db.reader() as session:
        ranking = await service.rank(session, request.app.state.homes_snapshot, str(referral_id),
                                     as_of=as_of or now.date(), now=now, limit=limit)
        mark = await service.restriction_marker(session, principal, str(referral_id))
    touched(request, *ranking.child_records)
    return Response(content=canonical(_marked(ranking.body, mark)), media_type="application/json")


def _marked(body: dict, mark: dict | None) -> dict:
    """The answer with the hub's `restriction` marker beside it (decision 0006), as the hub's other reads of a
    child's record carry it; the marker is not part of the answer's id."""
    return {**body, "restriction": jsonable_encoder(mark)}


class RecordAssessment(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"impact_risk_assessment_id": "9c4d2f0e5b1a..."}, {}]})
    impact_risk_assessment_id: str | None = Field(default=None, max_length=64, description=(
        "The answer the hub saw (from GET .../matches). When the homes or the child changed since, the answer "
        "is different and the request is 409 with the current id; omit it to record the current answer"))


@router.post("/v1/referrals/{referral_id}/matches", response_model=ImpactRiskAssessmentOut | TeamRankingOut, status_code=201,
             summary="Record the impact risk assessment the hub has seen (announces impact_risk.assessed)",
             responses={200: {"description": "This answer was recorded before: nothing new is announced"},
                        409: {"description": "The answer changed since it was shown (current id given)"}})
async def record_matches(referral_id: uuid.UUID, request: Request, principal: RecordMatches,
                         body: RecordAssessment | None = None, limit: Limit = None, as_of: AsOf = None,
                         idempotency_key: IdempotencyKey = None):
    """Stores the answer and emits impact_risk.assessed once per distinct answer; the referral service
    then moves a received referral to in_assessment (and emits referral.status_changed). 201 the first
    time an answer is recorded, 200 when it was already."""
    wanted = (body or RecordAssessment()).impact_risk_assessment_id

    async def op(uow) -> Written:
        now = service.utcnow()
        ranking = await service.rank(uow.session, request.app.state.homes_snapshot, str(referral_id),
                                     as_of=as_of or now.date(), now=now, limit=limit)
        if wanted is not None and wanted != ranking.id:
            raise service.Refused("The impact risk assessment changed since it was shown; read it again.",
                                  current_impact_risk_assessment_id=ranking.id,
                                  allowed=[f"GET /v1/referrals/{referral_id}/matches"])
        created = await service.record_ranking(uow, ranking, now)
        mark = await service.restriction_marker(uow.session, principal, str(referral_id))
        return Written(_marked(ranking.body, mark), child_records=ranking.child_records,
                       status_code=201 if created else 200)
    return await write(request, principal, op, key=idempotency_key, body=body)
