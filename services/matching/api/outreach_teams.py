"""/v1/outreach-teams: the hub's outreach teams (issue 16), its capacity for outreach as homes are for beds.

The hub (and provider_admin) create, change and read teams; councils and home managers never (a team holds no child,
but it is the provider's own operational data). A team's ETag is its version: PATCH needs If-Match. A team's
caseload is never set by hand: an accepted outreach referral takes a place, the intervention closing
(assessment's intervention.closed) gives it back.
"""
from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from libs.common.auth import Authorize, Principal
from libs.common.http import IdempotencyKey, RequiredIfMatch, Written, etag, write
from libs.common.vocabulary import OUTREACH_SPECIALISMS

from .. import service
from ..domain import teams as team_rules
from ..schemas import OutreachSpecialismTerm, TeamCreate, TeamOut, TeamPage, TeamUpdate, TeamVocabulary

router = APIRouter(prefix="/v1/outreach-teams", tags=["outreach teams"])

TeamsWrite = Annotated[Principal, Authorize("homes:write", roles=("provider_admin",), councils=False)]
TeamsRead = Annotated[Principal, Authorize("homes:read", roles=("provider_admin",), councils=False)]


def _written(view: dict, status_code: int = 200, **headers: str) -> Written:
    return Written(TeamOut.model_validate(view), status_code=status_code,
                   headers={"ETag": etag(view["version"]), **headers})


@router.post("", status_code=201, response_model=TeamOut, summary="Create an outreach team",
             responses={200: {"description": "A retry with the same facts: the team already made"},
                        409: {"description": "Another team has this name"}})
async def create_team(body: TeamCreate, request: Request, principal: TeamsWrite, idempotency_key: IdempotencyKey = None):
    """The team starts active with an empty caseload; matching offers it to outreach referrals at once."""
    async def op(uow) -> Written:
        view, created = await service.create_team(uow, principal, body.model_dump(), service.utcnow())
        return _written(view, 201 if created else 200, Location=f"/v1/outreach-teams/{view['id']}")
    return await write(request, principal, op, key=idempotency_key, body=body)


@router.get("", response_model=TeamPage, summary="List outreach teams")
async def list_teams(request: Request, principal: TeamsRead,
                     region: Annotated[str | None, Query(max_length=40)] = None,
                     status: Literal["active", "suspended"] | None = None) -> TeamPage:
    async with request.app.state.runtime.db.reader() as session:
        views = await service.list_teams(session, principal, region, status)
    return TeamPage(items=[TeamOut.model_validate(v) for v in views], next_cursor=None)


@router.get("/vocabulary", response_model=TeamVocabulary,
            summary="The codes a team uses: its specialisms and what each serves in the ranking, the hard limits")
async def team_vocabulary(principal: TeamsRead) -> TeamVocabulary:
    return TeamVocabulary(
        specialisms=[OutreachSpecialismTerm(code=t.code, label=t.label, serves=sorted(team_rules.SERVES[t.code]))
                     for t in OUTREACH_SPECIALISMS.values()],
        hard_limits=list(team_rules.TEAM_LIMITS), decline_reasons=dict(team_rules.DECLINE_FOR_LIMIT),
        rules_version=team_rules.RULES_VERSION)


@router.get("/{team_id}", response_model=TeamOut, summary="Read an outreach team")
async def get_team(team_id: uuid.UUID, request: Request, response: Response, principal: TeamsRead) -> TeamOut:
    async with request.app.state.runtime.db.reader() as session:
        view = await service.team(session, principal, str(team_id))
    response.headers["ETag"] = etag(view["version"])
    return TeamOut.model_validate(view)


@router.patch("/{team_id}", response_model=TeamOut, summary="Change an outreach team (If-Match)",
              responses={412: {"description": "If-Match is stale"}, 428: {"description": "If-Match is missing"}})
async def update_team(team_id: uuid.UUID, body: TeamUpdate, request: Request, principal: TeamsWrite,
                      if_match: RequiredIfMatch, idempotency_key: IdempotencyKey = None):
    """Only the fields sent change; `status: suspended` takes the team out of matching at once (its open
    interventions carry on)."""
    async def op(uow) -> Written:
        return _written(await service.update_team(uow, principal, str(team_id), body.model_dump(exclude_unset=True),
                                                  if_match, service.utcnow()))
    return await write(request, principal, op, key=idempotency_key, body=body)
