"""Reports computed from the read models kept from events (never by calling other services):
/v1/outcomes/cohorts (progress per home, hub or council) and /v1/reports/sufficiency (JSON or CSV).
A council sees only its own children; a home manager only their homes."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response

from libs.common.audit import touched

from .. import service
from ..domain import sufficiency
from .common import LaCode, Reader, date_range, today

router = APIRouter(tags=["reports"])


@router.get("/v1/outcomes/cohorts", summary="Cohort progress per home, hub or council for a date range")
async def cohorts(request: Request, principal: Reader,
                  start: Annotated[date | None, Query(alias="from")] = None,
                  end: Annotated[date | None, Query(alias="to")] = None,
                  by: Literal["home", "hub", "council"] = "home", la_code: LaCode = None,
                  home_id: Annotated[str | None, Query(max_length=36)] = None) -> JSONResponse:
    """Placements overlapping the range: mean change in SDQ total difficulties (latest by `to` minus baseline;
    negative is better), share improved, stability, breakdown rate (unplanned endings over endings) and
    whether step-downs held at 3, 6 and 12 months (no new referral of the child in that time)."""
    start, end = date_range(start, end)
    if principal.is_council:
        la_code = principal.la_code
    async with request.app.state.runtime.db.reader() as session:
        report = await service.cohort_report(session, principal, start=start, end=end, by=by, la_code=la_code,
                                             home_id=home_id, today=today())
    touched(request, *report.pop("child_records"))
    return JSONResponse(jsonable_encoder(report))


@router.get("/v1/reports/sufficiency", summary="The sufficiency report (JSON or CSV)",
            responses={200: {"content": {"application/json": {}, "text/csv": {}}}})
async def sufficiency_report(request: Request, principal: Reader,
                             start: Annotated[date | None, Query(alias="from")] = None,
                             end: Annotated[date | None, Query(alias="to")] = None,
                             la_code: LaCode = None, format: Literal["json", "csv"] = "json") -> Response:
    """Referrals by council and need, placements made, declines by reason, days from referral to decision and
    to admission (median, 90th percentile), distance from the child's home area (median, share outside their
    own area), occupancy and contract use. A council's report is its own (la_code is theirs whatever is asked)."""
    start, end = date_range(start, end)
    runtime = request.app.state.runtime
    async with runtime.db.reader() as session:
        report = await service.sufficiency_report(session, principal, start=start, end=end, la_code=la_code,
                                                  is_postgres=runtime.db.is_postgres)
    if format == "csv":
        return Response(sufficiency.as_csv(report), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="sufficiency-{start}-{end}.csv"'})
    return JSONResponse(report)
