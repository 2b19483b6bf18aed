"""/v1/outcomes/placements/{placement_id}: a placement's measurement points (due dates, what is missing), its
measures and the child's progress against the baseline; recording the measures at a point."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from libs.common.audit import touched
from libs.common.http import IdempotencyKey, Written, write

from .. import service
from ..schemas import MeasuresIn
from .common import Reader, Recorder, now, today

router = APIRouter(prefix="/v1/outcomes/placements", tags=["outcomes"])


@router.get("/{placement_id}", summary="A placement's measurement points, measures and progress")
async def get_outcomes(placement_id: uuid.UUID, request: Request, principal: Reader) -> JSONResponse:
    async with request.app.state.runtime.db.session() as session:
        view = await service.outcomes_of(session, principal, str(placement_id), today())
    touched(request, view["referral_id"])
    return JSONResponse(jsonable_encoder(view))


@router.post("/{placement_id}/measures", summary="Record the measures taken at a measurement point")
async def record_measures(placement_id: uuid.UUID, body: MeasuresIn, request: Request, principal: Recorder,
                          idempotency_key: IdempotencyKey = None) -> JSONResponse:
    """Any of sdq, education, health and stability, each once per point (a second one answers 409). Emits
    outcome.recorded per measure (codes and numbers only)."""
    raw = body.model_dump()

    async def op(uow) -> Written:
        view = await service.record_measures(uow, principal, str(placement_id), raw, today(), now())
        return Written(view, child_records=[view["referral_id"]])
    return await write(request, principal, op, key=idempotency_key, body=body.model_dump(mode="json"))
