"""/v1/journeys: the total cost of care. compare costs two journeys line by line; a placement's actual
journey inside the service comes from the weekly fees billing applied (placement.fee_applied)."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from libs.common.audit import touched

from .. import service
from ..domain.journeys import compare
from ..schemas import CompareIn
from .common import Reader, today

router = APIRouter(prefix="/v1/journeys", tags=["journeys"])


@router.post("/compare", summary="Compare an actual journey with the alternative (avoided or added cost)")
async def compare_journeys(body: CompareIn, principal: Reader) -> JSONResponse:
    """Each segment costed (rate x length; a month is weeks_per_month weeks, a week 7 days); a stated total
    that differs is flagged with the difference, never used in its place. The difference is actual minus
    alternative on the computed and the stated basis: positive is the cost the alternative avoids. Amounts are decimal strings."""
    return JSONResponse(compare(body.model_dump()))


@router.get("/placements/{placement_id}", summary="A placement's actual journey from the fees applied")
async def actual_journey(placement_id: uuid.UUID, request: Request, principal: Reader) -> JSONResponse:
    """Segments in /v1/journeys/compare's shape (one per weekly fee that applied, by day); the council adds the
    placements before and after and compares with the pathway's alternative."""
    async with request.app.state.runtime.db.session() as session:
        view = await service.actual_journey(session, principal, str(placement_id), today())
    touched(request, view["referral_id"])
    return JSONResponse(jsonable_encoder(view))
