"""/v1/outcomes/sdq/score: the stateless SDQ scoring call (integrators and tests); nothing is stored."""
from __future__ import annotations

from fastapi import APIRouter
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from .. import service
from ..schemas import SdqIn, SdqScoreOut
from .common import Reader

router = APIRouter(prefix="/v1/outcomes", tags=["outcomes"])


@router.post("/sdq/score", response_model=SdqScoreOut, summary="Score an SDQ by the published rules")
async def score_sdq(body: SdqIn, principal: Reader) -> JSONResponse:
    """The five scales, total difficulties (0-40), externalising and internalising, and the four-band
    category of the total for that informant; `impact` too when the impact supplement is given. A scale with
    1 or 2 items missing is prorated; with 3 or more it is null, and so is everything built on it."""
    return JSONResponse(jsonable_encoder(service.score_sdq(body.informant, body.items, body.impact)))
