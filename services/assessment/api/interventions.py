"""/v1/interventions: the outreach team's interventions (issue 16). One is made when the hub accepts an outreach
referral (outreach.accepted); the hub moves it accepted -> active -> stepping_down -> closed (PATCH with
If-Match), revises its plan, logs its sessions and records the follow-up checks after the close. A council reads
its own children's interventions (another council's answer 404); every read names the child records it touched."""
from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from libs.common.audit import touched
from libs.common.auth import Authorize, Principal
from libs.common.errors import NotFound
from libs.common.http import IdempotencyKey, RequiredIfMatch, Written, etag, write
from libs.common.web import runtime_of

from .. import repository as repo
from .. import service
from ..schemas import (FollowUpIn, FollowUpOut, InterventionMove, InterventionOut, InterventionPage,
                       InterventionPlanIn, SessionIn, SessionOut)
from .common import BAD_HEADER, CONFLICT, INVALID, MISSING, WRITE_RESPONSES, Cursor, Limit, PlacementReader, now, \
    today

router = APIRouter(tags=["interventions"])

# the hub's outreach team writes (a home manager's reach is their homes; an intervention is in none)
OutreachWriter = Annotated[Principal, Authorize("placements:write", roles=("hub", "provider_admin"),
                                                councils=False)]
STALE = {412: {"description": "If-Match is stale: the answer carries the current ETag"},
         428: {"description": "If-Match is missing"}}


async def _view(session, row: dict, mark: dict | None = None) -> InterventionOut:
    [view] = await service.intervention_views(session, [row], today())
    return InterventionOut.model_validate({**view, "restriction": mark})


@router.get("/v1/interventions", response_model=InterventionPage, responses=INVALID,
            summary="Outreach interventions, a page at a time")
async def list_interventions(
        request: Request, principal: PlacementReader,
        status: Annotated[list[Literal["accepted", "active", "stepping_down", "closed"]] | None,
                          Query(max_length=4)] = None,
        team: Annotated[uuid.UUID | None, Query(description="One outreach team's caseload")] = None,
        referral_id: Annotated[uuid.UUID | None, Query(description="The intervention of this referral")] = None,
        cursor: Cursor = None, limit: Limit = 50) -> InterventionPage:
    """A council sees its own children's only. Oldest first (the order they were made in)."""
    async with runtime_of(request).db.reader() as session:
        rows, next_cursor = await repo.interventions_page(
            session, principal, status=status, team=str(team) if team else None,
            referral=str(referral_id) if referral_id else None, cursor=cursor, limit=limit)
        rows, marks, omitted = await repo.screen(session, principal, rows)
        views = await service.intervention_views(session, rows, today())
    touched(request, *[r["referral_id"] for r in rows])
    return InterventionPage(items=[InterventionOut.model_validate({**v, "restriction": marks.get(str(v["referral_id"]))})
                                   for v in views], next_cursor=next_cursor, restricted_omitted=omitted)


@router.get("/v1/interventions/{intervention_id}", response_model=InterventionOut, responses=MISSING,
            summary="An intervention: status, plan, sessions and follow-up checks")
async def get_intervention(intervention_id: uuid.UUID, request: Request, response: Response,
                           principal: PlacementReader) -> InterventionOut:
    async with runtime_of(request).db.reader() as session:
        row = await repo.get_intervention(session, principal, str(intervention_id))  # a council's restricted: 451
        if row is None:
            raise NotFound("intervention")
        out = await _view(session, row, await repo.restriction_marker(session, principal, row["referral_id"]))
    touched(request, row["referral_id"])
    response.headers["ETag"] = etag(row["version"])
    return out


@router.patch("/v1/interventions/{intervention_id}", response_model=InterventionOut,
              responses={**MISSING, **CONFLICT, **INVALID, **BAD_HEADER, **STALE},
              summary="Move the intervention's status (If-Match)")
async def move(intervention_id: uuid.UUID, body: InterventionMove, request: Request, principal: OutreachWriter,
               if_match: RequiredIfMatch):
    """accepted -> active (its effective date is the start), active -> stepping_down, -> closed with an outcome
    (stabilised with stabilised_on). Emits intervention.status_changed, and intervention.closed on a close. The
    same move again changes nothing."""
    async def op(uow) -> Written:
        row = await service.move_intervention(uow, principal, str(intervention_id), to=body.status,
                                              effective_date=body.effective_date, outcome=body.outcome,
                                              stabilised_on=body.stabilised_on, precondition=if_match,
                                              today=today(), now=now())
        return Written(await _view(uow.session, row), [row["referral_id"]], headers={"ETag": etag(row["version"])})
    return await write(request, principal, op)


@router.put("/v1/interventions/{intervention_id}/plan", response_model=InterventionOut,
            responses={**MISSING, **CONFLICT, **INVALID, **BAD_HEADER, **STALE},
            summary="Revise the intervention plan (goals as codes, sessions a week), with If-Match")
async def revise_plan(intervention_id: uuid.UUID, body: InterventionPlanIn, request: Request,
                      principal: OutreachWriter, if_match: RequiredIfMatch):
    """A new plan version; every version is kept (plan_versions). The same plan again changes nothing."""
    async def op(uow) -> Written:
        row = await service.revise_intervention_plan(uow, principal, str(intervention_id), goals=body.goals,
                                                     sessions_per_week=body.sessions_per_week,
                                                     precondition=if_match, today=today(), now=now())
        return Written(await _view(uow.session, row), [row["referral_id"]], headers={"ETag": etag(row["version"])})
    return await write(request, principal, op)


@router.post("/v1/interventions/{intervention_id}/sessions", status_code=201, response_model=SessionOut,
             responses={**WRITE_RESPONSES, 201: {"description": "Logged"}},
             summary="Log a session (date, minutes, with whom as codes)")
async def log_session(intervention_id: uuid.UUID, body: SessionIn, request: Request, principal: OutreachWriter,
                      idempotency_key: IdempotencyKey = None):
    """While the intervention is active or stepping down. Emits intervention.session_logged (codes and
    numbers, never names or notes). Send an Idempotency-Key to make a retry safe."""
    async def op(uow) -> Written:
        logged, row = await service.log_session(uow, principal, str(intervention_id), session_date=body.session_date,
                                                minutes=body.minutes, with_whom=list(body.with_whom),
                                                today=today(), now=now())
        return Written(SessionOut.model_validate(logged), [row["referral_id"]], status_code=201)
    return await write(request, principal, op, key=idempotency_key, body=body)


@router.post("/v1/interventions/{intervention_id}/follow-ups", status_code=201, response_model=FollowUpOut,
             responses={**WRITE_RESPONSES, 201: {"description": "Recorded"}},
             summary="Record whether the placement held at 6 weeks, 3 months or 6 months after the close")
async def record_follow_up(intervention_id: uuid.UUID, body: FollowUpIn, request: Request,
                           principal: OutreachWriter, idempotency_key: IdempotencyKey = None):
    """Once per checkpoint (the same record again answers it; another is 409), from a week before it falls due.
    Emits intervention.follow_up_recorded."""
    async def op(uow) -> Written:
        values, row = await service.record_follow_up(uow, principal, str(intervention_id),
                                                     checkpoint=body.checkpoint, held=body.held,
                                                     recorded_on=body.recorded_on,
                                                     breakdown_date=body.breakdown_date, today=today(), now=now())
        return Written(FollowUpOut(checkpoint=values["checkpoint"], due_date=values["due_date"], state="recorded",
                                   held=values["held"], recorded_on=values["recorded_on"],
                                   breakdown_date=values["breakdown_date"]), [row["referral_id"]], status_code=201)
    return await write(request, principal, op, key=idempotency_key, body=body)
