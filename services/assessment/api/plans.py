"""/v1/plans: the pathway plan. Its working copy is edited with If-Match (the ETag is the working copy's
version); the Initial Pathway Plan is issued as version 1, later versions come from reviews and are kept
for ever."""
from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from libs.common.audit import touched
from libs.common.auth import Principal
from libs.common.errors import NotFound
from libs.common.http import IdempotencyKey, IfMatch, RequiredIfMatch, Written, etag, write
from libs.common.web import runtime_of

from .. import repository as repo
from .. import service
from ..domain.schedule import plan_is_late
from ..schemas import PlanEdit, PlanIssue, PlanOut, PlanVersionOut, PlanVersionPage
from .common import BAD_HEADER, CONFLICT, INVALID, MISSING, WRITE_RESPONSES, PlanReader, Writer, now, today

router = APIRouter(tags=["plans"])

STALE = {412: {"description": "If-Match is stale: the answer carries the current ETag"}}


async def _plan_out(session, plan: dict, placement: dict, principal: Principal) -> PlanOut:
    versions = await repo.plan_versions_of(session, plan["id"])
    current = versions[-1] if versions else None
    return PlanOut(id=plan["id"], placement_id=plan["placement_id"],
                   status="issued" if plan["issued_version"] else "draft", due_date=plan["due_date"],
                   late=plan_is_late(placement["arrival_date"], plan["issued_on"], today()),
                   issued_version=plan["issued_version"], issued_on=plan["issued_on"],
                   draft=None if principal.is_council else plan["sections"],
                   current=PlanVersionOut.model_validate(current) if current else None,
                   versions=[v["version"] for v in versions])


async def _read_plan(request: Request, principal: Principal, response: Response, *, plan_id: str | None = None,
                     placement_id: str | None = None) -> PlanOut:
    async with runtime_of(request).db.session() as session:
        if plan_id is not None:
            plan, placement = await repo.get_plan(session, principal, plan_id)
        else:
            placement = await repo.get_placement(session, principal, placement_id)
            plan = await repo.plan_of(session, placement_id) if placement else None
        if plan is None:
            raise NotFound("plan")
        out = await _plan_out(session, plan, placement, principal)
    touched(request, placement["referral_id"])
    response.headers["ETag"] = etag(plan["version"])
    return out


@router.get("/v1/placements/{placement_id}/plan", response_model=PlanOut, responses=MISSING,
            summary="The placement's pathway plan (from arrival)")
async def placement_plan(placement_id: uuid.UUID, request: Request, response: Response,
                         principal: PlanReader) -> PlanOut:
    return await _read_plan(request, principal, response, placement_id=str(placement_id))


@router.get("/v1/plans/{plan_id}", response_model=PlanOut, responses=MISSING,
            summary="A pathway plan: its current issued version, its versions and (for the hub) the draft")
async def get_plan(plan_id: uuid.UUID, request: Request, response: Response, principal: PlanReader) -> PlanOut:
    return await _read_plan(request, principal, response, plan_id=str(plan_id))


@router.get("/v1/plans/{plan_id}/versions", response_model=PlanVersionPage, responses=MISSING,
            summary="Every issued version of a plan, oldest first")
async def list_versions(plan_id: uuid.UUID, request: Request, principal: PlanReader) -> PlanVersionPage:
    async with runtime_of(request).db.reader() as session:
        plan, placement = await repo.get_plan(session, principal, str(plan_id))
        if plan is None:
            raise NotFound("plan")
        versions = await repo.plan_versions_of(session, plan["id"])
    touched(request, placement["referral_id"])
    return PlanVersionPage(items=[PlanVersionOut.model_validate(v) for v in versions], next_cursor=None)


@router.get("/v1/plans/{plan_id}/versions/{version}", response_model=PlanVersionOut, responses=MISSING,
            summary="One issued version of a plan")
async def get_version(plan_id: uuid.UUID, version: Annotated[int, Path(ge=1, le=10_000)],
                      request: Request, principal: PlanReader) -> PlanVersionOut:
    async with runtime_of(request).db.reader() as session:
        plan, placement = await repo.get_plan(session, principal, str(plan_id))
        if plan is None:
            raise NotFound("plan")
        found = await repo.plan_version(session, plan["id"], version)
    touched(request, placement["referral_id"])
    if found is None:
        raise NotFound("plan version")
    return PlanVersionOut.model_validate(found)


@router.patch("/v1/plans/{plan_id}", response_model=PlanOut,
              responses={**MISSING, **CONFLICT, **INVALID, **BAD_HEADER, **STALE,
                         428: {"description": "If-Match is missing"}},
              summary="Edit the plan's sections (the working copy), with If-Match")
async def edit_plan(plan_id: uuid.UUID, body: PlanEdit, request: Request, principal: Writer,
                    if_match: RequiredIfMatch):
    """Sections not sent are kept. The answer carries the new ETag."""
    async def op(uow) -> Written:
        plan, placement = await service.edit_plan(uow, principal, str(plan_id), body.sections.given(), if_match,
                                                  now())
        return Written(await _plan_out(uow.session, plan, placement, principal), [placement["referral_id"]],
                       headers={"ETag": etag(plan["version"])})
    return await write(request, principal, op)


@router.post("/v1/plans/{plan_id}/issue", response_model=PlanOut,
             responses={**WRITE_RESPONSES, 412: {"description": "If-Match (optional here) is stale"}},
             summary="Issue the Initial Pathway Plan to the council (version 1)")
async def issue_plan(plan_id: uuid.UUID, request: Request, principal: Writer, body: PlanIssue | None = None,
                     idempotency_key: IdempotencyKey = None, if_match: IfMatch = None):
    """Every section must be written. Emits pathway_plan.issued (version 1). Later versions come from reviews."""
    body = body or PlanIssue()

    async def op(uow) -> Written:
        plan, placement = await service.issue_plan(uow, principal, str(plan_id), precondition=if_match,
                                                   today=today(), issued_on=body.issued_on or today(), now=now())
        return Written(await _plan_out(uow.session, plan, placement, principal), [placement["referral_id"]],
                       headers={"ETag": etag(plan["version"])})
    return await write(request, principal, op, key=idempotency_key, body=body)
