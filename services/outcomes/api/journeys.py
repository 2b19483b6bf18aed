"""/v1/journeys: the total cost of care. compare costs two journeys line by line; a placement's actual
journey inside the service comes from what billing invoiced (invoice.issued's lines, adjustments included),
with the weekly fees billing applied (placement.fee_applied) as an estimate for days not yet invoiced."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from libs.common.audit import touched

from .. import service
from ..domain.journeys import compare
from ..schemas import CompareIn, PlacementCompareIn
from .common import Reader, today

router = APIRouter(prefix="/v1/journeys", tags=["journeys"])


@router.post("/compare", summary="Compare an actual journey with the alternative (avoided or added cost)")
async def compare_journeys(body: CompareIn, principal: Reader) -> JSONResponse:
    """Each segment costed (rate x length; a month is weeks_per_month weeks, a week 7 days); a stated total
    that differs is flagged with the difference, never used in its place. The difference is actual minus
    alternative on the computed and the stated basis: positive is the cost the alternative avoids. Amounts are decimal strings."""
    return JSONResponse(compare(body.model_dump()))


@router.get("/placements/{placement_id}", summary="A placement's actual journey: what was invoiced, then an estimate")
async def actual_journey(placement_id: uuid.UUID, request: Request, principal: Reader) -> JSONResponse:
    """Segments in /v1/journeys/compare's shape: one per invoiced line (source `invoiced`; a one-off at what
    was invoiced for its days, adjustments included, so they add up to the invoice lines to the penny), then
    the days not yet invoiced from the weekly fees billing applied (source `estimate`, labelled so)."""
    async with request.app.state.runtime.db.reader() as session:
        view = await service.actual_journey(session, principal, str(placement_id), today())
    touched(request, view["referral_id"])
    return JSONResponse(jsonable_encoder(view))


@router.post("/placements/{placement_id}/compare",
             summary="A child's whole journey (before, inside the service, after) against the alternative")
async def compare_placement(placement_id: uuid.UUID, body: PlacementCompareIn, request: Request,
                            principal: Reader) -> JSONResponse:
    """The council adds the placements before and after; the journey inside the service is the placement's
    actual journey (invoiced, then the estimate; unpriced days left out and counted). Answered as
    /v1/journeys/compare answers, with where the service's lines sit in `actual`."""
    async with request.app.state.runtime.db.session() as session:
        view = await service.compare_placement(session, principal, str(placement_id), body.model_dump(), today())
    touched(request, view["referral_id"])
    return JSONResponse(jsonable_encoder(view))
