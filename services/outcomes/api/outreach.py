"""/v1/reports/outreach: the outreach evidence report (issue 16), per intervention, team and council: placements
held and broken down at 6 weeks, 3 and 6 months, time to stabilise, and the return on investment (fees paid
against the breakdown costs avoided); /v1/reports/outreach/settings/{la_code}: each council's assumed cost of a
breakdown, which the commissioner reads and changes (If-Match; every change kept). A council sees only its own."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from libs.common.audit import touched
from libs.common.http import IdempotencyKey, RequiredIfMatch, Written, etag, write

from .. import service
from ..domain import outreach
from ..schemas import BreakdownCostIn
from .common import LaCode, LaPath, Reader, date_range, now

router = APIRouter(prefix="/v1/reports/outreach", tags=["reports"])


@router.get("", summary="The outreach evidence report: placements held, time to stabilise, return on investment",
            responses={200: {"content": {"application/json": {}, "text/csv": {}}}})
async def outreach_report(request: Request, principal: Reader,
                          start: Annotated[date | None, Query(alias="from")] = None,
                          end: Annotated[date | None, Query(alias="to")] = None,
                          la_code: LaCode = None, format: Literal["json", "csv"] = "json") -> Response:
    """Interventions overlapping the range, each with its checkpoints (6_weeks, 3_months, 6_months: held, broke
    or pending), days to stabilise, fees paid (its outreach invoice lines, adjustments included) and the
    breakdown cost avoided when its placement held (the council's assumed cost); then per team, per council and
    in all: placements held and broken down, the median days to stabilise, fees paid, costs avoided, net saving
    and return on investment ((avoided - fees) / fees). A council's report is its own whatever it asks for."""
    start, end = date_range(start, end)
    async with request.app.state.runtime.db.reader() as session:
        report = await service.outreach_report(session, principal, start=start, end=end, la_code=la_code)
    touched(request, *[i["referral_id"] for i in report["interventions"]])
    if format == "csv":
        return Response(outreach.as_csv(jsonable_encoder(report)), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="outreach-{start}-{end}.csv"'})
    return JSONResponse(jsonable_encoder(report))


@router.get("/settings/{la_code}", summary="A council's assumed cost of a breakdown (ETag: its version)")
async def get_setting(la_code: LaPath, request: Request, principal: Reader) -> JSONResponse:
    """The cost the report counts for each placement held (default 50000.00 until the council changes it), its
    version (the ETag; 0 while it is the default) and every change (who, when, from, to). A council reads its own."""
    async with request.app.state.runtime.db.reader() as session:
        view = await service.outreach_setting(session, principal, la_code)
    return JSONResponse(jsonable_encoder(view), headers={"ETag": etag(view["version"])})


@router.put("/settings/{la_code}", summary="Change a council's assumed cost of a breakdown (If-Match)")
async def put_setting(la_code: LaPath, body: BreakdownCostIn, request: Request, principal: Reader,
                      if_match: RequiredIfMatch, idempotency_key: IdempotencyKey = None) -> JSONResponse:
    """The council (its own) or the hub sets the cost in pounds (a decimal string, more than 0, at most
    1000000.00). If-Match is the version read (\\"0\\" for the default); a stale one is 412. The change is kept with
    who made it and when, and answered in `changes`."""
    raw = body.model_dump()

    async def op(uow) -> Written:
        view = await service.change_outreach_setting(uow, principal, la_code, raw, if_match, now())
        return Written(view, headers={"ETag": etag(view["version"])})
    return await write(request, principal, op, key=idempotency_key, body=raw)
