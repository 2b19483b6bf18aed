"""GET /v1/referrals/{id}/matches: the impact risk assessment for one referral, for the hub.

The answer is deterministic: it carries no clock time, only the as_of date, the rules version and the
weights, and its id is the hash of its content. Each distinct answer is stored (so a decision can cite it)
and announced once as impact_risk.assessed.
"""
from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from libs.common.audit import touched
from libs.common.auth import Authorize, Principal
from libs.common.http import Written, write

from .. import service
from ..domain.impact_risk import canonical
from ..schemas import ImpactRiskAssessmentOut

router = APIRouter(tags=["matching"])

ReadMatches = Annotated[Principal, Authorize("matches:read", councils=False)]


@router.get("/v1/referrals/{referral_id}/matches", response_model=ImpactRiskAssessmentOut,
            summary="The impact risk assessment: homes ranked for a referral")
async def get_matches(referral_id: uuid.UUID, request: Request, principal: ReadMatches,
                      limit: Annotated[int | None, Query(ge=1, le=500)] = None,
                      as_of: Annotated[date | None,
                                       Query(description="Ages counted on this day (default today)")] = None):
    """For the hub: hard limits first (with how many homes each excluded), then each remaining home
    scored against every current resident, explained term by term. 404 until matching has received
    the referral's event."""
    now = service.utcnow()
    async with request.app.state.runtime.db.session() as session:
        ranking = await service.rank(session, request.app.state.homes_snapshot, str(referral_id),
                                     as_of=as_of or now.date(), now=now, limit=limit)
    if not ranking.stored:  # the first time this answer is shown: store it and announce it
        async def op(uow) -> Written:
            await service.record_ranking(uow, ranking, now)
            return Written(None)
        await write(request, principal, op)
    touched(request, *ranking.child_records)
    return Response(content=canonical(ranking.body), media_type="application/json")
