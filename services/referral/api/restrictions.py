"""/v1/referrals/{id}/restrictions: a right-to-erasure request becomes a recorded restriction of processing, not a
deletion (UK GDPR article 18; docs/decisions/0006-retention.md). The hub records it (role hub, or a hub client
with scope restrictions:write); from then on the child's record is served to the hub only, marked, and a
council's reads answer 451. HTTP only; the rules are in service.py and domain/restriction.py."""
from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Request

from libs.common.audit import touched
from libs.common.auth import Authorize, Principal
from libs.common.http import IdempotencyKey, Written, write
from libs.common.web import runtime_of

from .. import service
from ..schemas import Restriction, RestrictionCreate, RestrictionList

router = APIRouter(prefix="/v1/referrals", tags=["referrals"])

Recorder = Annotated[Principal, Authorize("restrictions:write", councils=False)]
Viewer = Annotated[Principal, Authorize("restrictions:read", councils=False)]


@router.post("/{referral_id}/restrictions", status_code=201, response_model=Restriction,
             summary="Record a restriction of processing (what a right-to-erasure request becomes)",
             responses={200: {"description": "The same request was recorded before: that restriction, unchanged"},
                        201: {"description": "Recorded; the record is now served to the hub only"},
                        404: {"description": "No such referral"}})
async def restrict(referral_id: uuid.UUID, body: RestrictionCreate, request: Request, principal: Recorder,
                   idempotency_key: IdempotencyKey = None):
    """Nothing is deleted: the restriction is recorded (who asked, when, which parts, as codes; who recorded it
    and when) beside the record, which stays whole for its 75 years."""

    async def op(uow):
        row, created = await service.restrict(uow, principal, str(referral_id), reason_code=body.reason_code,
                                              requested_by=body.requested_by, requested_on=body.requested_on,
                                              scope=list(body.scope))
        return Written(Restriction.model_validate(row), child_records=[row["referral_id"]],
                       status_code=201 if created else 200,
                       headers={"Location": f"/v1/referrals/{row['referral_id']}/restrictions"})

    return await write(request, principal, op, key=idempotency_key, body=await request.json())


@router.get("/{referral_id}/restrictions", response_model=RestrictionList, summary="A record's restrictions")
async def list_restrictions(referral_id: uuid.UUID, request: Request, principal: Viewer) -> RestrictionList:
    async with runtime_of(request).db.reader() as session:
        rows = await service.restrictions(session, principal, str(referral_id))
    touched(request, str(referral_id))
    return RestrictionList(items=[Restriction.model_validate(r) for r in rows])


@router.post("/{referral_id}/restrictions/{restriction_id}/lift", response_model=Restriction,
             summary="Lift a restriction of processing (a recorded act; nothing is deleted)",
             responses={200: {"description": "Lifted (or lifted before: the restriction as it is, nothing emitted)"},
                        404: {"description": "No such referral or restriction"}})
async def lift(referral_id: uuid.UUID, restriction_id: uuid.UUID, request: Request, principal: Recorder,
               idempotency_key: IdempotencyKey = None):
    """The hub (its data protection officer) lifts a restriction: lifted_at and lifted_by are recorded, the
    restriction stays in the history, `referral.restriction_lifted` is emitted once, and the council reads the
    child's record again in every service (unless another restriction is in force)."""

    async def op(uow):
        row, _ = await service.lift(uow, principal, str(referral_id), str(restriction_id))
        return Written(Restriction.model_validate(row), child_records=[row["referral_id"]], status_code=200)

    return await write(request, principal, op, key=idempotency_key, body=None)
