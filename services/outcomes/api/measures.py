"""/v1/outcomes/placements/{placement_id}: a placement's measurement points (due dates, what is missing), its
measures and the child's progress against the baseline; recording the measures at a point."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from libs.common.audit import touched
from libs.common.http import IdempotencyKey, RequiredIfMatch, Written, etag, write

from .. import service
from ..domain.timepoints import timepoint_names_valid
from ..domain.errors import OutcomeError
from ..schemas import CorrectionIn, MeasuresIn
from .common import Reader, Recorder, now, today

router = APIRouter(prefix="/v1/outcomes/placements", tags=["outcomes"])


@router.get("/{placement_id}", summary="A placement's measurement points, measures and progress")
async def get_outcomes(placement_id: uuid.UUID, request: Request, principal: Reader) -> JSONResponse:
    async with request.app.state.runtime.db.reader() as session:
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


@router.post("/{placement_id}/measures/{timepoint}/corrections",
             summary="Correct measures recorded wrongly at a point (If-Match: the measurement's version)")
async def correct_measures(placement_id: uuid.UUID, timepoint: str, body: CorrectionIn, request: Request,
                           principal: Recorder, if_match: RequiredIfMatch,
                           idempotency_key: IdempotencyKey = None) -> JSONResponse:
    """The groups sent (already recorded at the point) are replaced by the corrected values, which supersede
    them in progress and reports; the values they replace, who corrected them, when and the reason code are
    kept and answered in `corrections`. If-Match is the measurement's `version` at that point (412 when it
    moved on). Emits outcome.recorded again for the corrected measures, with correction=true."""
    if not timepoint_names_valid(timepoint):
        raise OutcomeError("path.timepoint", "timepoint", "baseline, day_28, day_90, six_monthly_N, ending or "
                           "follow_up_3/6/12_months")
    raw = body.model_dump()

    async def op(uow) -> Written:
        view = await service.correct_measures(uow, principal, str(placement_id), timepoint, raw, if_match, today(),
                                              now())
        version = next(m["version"] for m in view["measures"] if m["timepoint"] == timepoint)
        return Written(view, child_records=[view["referral_id"]], headers={"ETag": etag(version)})
    return await write(request, principal, op, key=idempotency_key, body=body.model_dump(mode="json"))
