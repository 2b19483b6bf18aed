"""/v1/placements: a placement's phase and day counter on any date, its history, and the moves that
change it (arrival, Phase 2, a Phase 1 extension, the step-down plan, the ending)."""
from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

import csv
import io

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from libs.common.audit import touched
from libs.common.auth import Principal
from libs.common.errors import NotFound, field_problem
from libs.common.http import IdempotencyKey, Written, write
from libs.common.web import runtime_of

from .. import repository as repo
from .. import service
from ..domain import ssda903
from ..domain.ending import REASON_EPISODE_CEASED
from ..schemas import (Arrival, CscPlacementList, Ending, EndingCode, EpisodeList, Extension, LegalStatusChange,
                       PhaseTwo, PlacementOut, PlacementPage, StepDownPlan)
from .common import (CONFLICT, INVALID, MISSING, WRITE_RESPONSES, Cursor, Limit, PlacementReader, Writer, now,
                     today)

router = APIRouter(tags=["placements"])


@router.get("/v1/placements/ending-codes", response_model=list[EndingCode],
            summary="The reason episode ceased codes an ending carries")
async def ending_codes(principal: PlacementReader) -> list[EndingCode]:
    """SSDA903 (the children looked after return) reason episode ceased codes."""
    return [EndingCode(code=c, label=label) for c, label in REASON_EPISODE_CEASED.items()]


def collection_year(day: date) -> tuple[date, date]:
    """The SSDA903 collection year holding a day: 1 April to 31 March (clamped to the calendar's ends)."""
    year = day.year if day.month >= 4 else day.year - 1
    first = date(year, 4, 1) if year >= 1 else date.min
    return first, date(year + 1, 3, 31) if year + 1 <= date.max.year else date.max


def _year_label(start: date | None, end: date | None) -> str | None:
    if start is None or end is None:
        return None
    first, last = collection_year(start)
    if first == date.min or last == date.max:
        return None
    return f"{first.year}-{str(last.year)[2:]}" if (first, last) == (start, end) else None


EPISODE_ANSWERS = {200: {"description": "The episodes as JSON, or as the return's CSV (Accept: text/csv or "
                                        "format=csv)", "content": {"text/csv": {"schema": {"type": "string"}}}},
                   **INVALID}


def _episodes_answer(request: Request, rows: list[dict], fmt: str | None, start: date | None, end: date | None,
                     omitted: int = 0):
    wants_csv = fmt == "csv" or (fmt is None and "text/csv" in request.headers.get("accept", ""))
    if not wants_csv:
        return EpisodeList(items=rows, collection_year=_year_label(start, end), restricted_omitted=omitted)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ssda903.COLUMNS)
    for r in rows:
        writer.writerow([ssda903.csv_value(c, r[c]) for c in ssda903.COLUMNS])
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="ssda903-episodes.csv"'})


EpisodeFormat = Annotated[Literal["json", "csv"] | None, Query(
    alias="format", description="json (default) or csv; Accept: text/csv also answers CSV")]


@router.get("/v1/placements/ssda903-episodes", response_model=EpisodeList, responses=EPISODE_ANSWERS,
            summary="SSDA903 episodes of the caller's placements between two days")
async def ssda903_episodes(
        request: Request, principal: PlacementReader,
        from_: Annotated[date | None, Query(alias="from", description="First day (default: the start of the "
                                                                      "current collection year, 1 April)")] = None,
        to: Annotated[date | None, Query(description="Last day (default: the end of that collection year, "
                                                     "31 March)")] = None,
        fmt: EpisodeFormat = None):
    """Each placement's episodes open at some time between the two days, with the return's column names: a
    new episode whenever the legal status or the placement changes. A council sees its own children only; a
    home manager the placements in their homes."""
    start = from_ or collection_year(today())[0]
    end = to or collection_year(start)[1]
    if end < start:
        raise field_problem("query.to", "date_in_order", "to is on or after from")
    async with runtime_of(request).db.reader() as session:
        rows, referrals, omitted = await service.episodes(session, principal, start=start, end=end)
    touched(request, *referrals)
    return _episodes_answer(request, rows, fmt, start, end, omitted)


@router.get("/v1/placements/csc-api-placements", response_model=CscPlacementList, responses=INVALID,
            summary="The caller's placements in the DfE children's social care API's shape")
async def csc_api_placements(
        request: Request, principal: PlacementReader,
        from_: Annotated[date | None, Query(alias="from", description="First day (default: the start of the "
                                                                      "current collection year, 1 April)")] = None,
        to: Annotated[date | None, Query(description="Last day (default: the end of that collection year, "
                                                     "31 March)")] = None,
        placement: Annotated[uuid.UUID | None, Query(description="Only this placement")] = None) -> CscPlacementList:
    """Each child's placements open at some time between the two days, as the items of the API's
    child_looked_after_placements (start and its reason, placement type, postcode, end and its reasons), beside the
    same placements' SSDA903 episodes (GET /v1/placements/ssda903-episodes). A council sees its own children only; a
    home manager the placements in their homes. With `placement` and no days: that placement whenever it was."""
    start: date | None = from_ or (None if placement and not to else collection_year(today())[0])
    end: date | None = to or (collection_year(start)[1] if start else None)
    if start and end and end < start:
        raise field_problem("query.to", "date_in_order", "to is on or after from")
    async with runtime_of(request).db.reader() as session:
        items, referrals, omitted = await service.csc_placements(session, principal, start=start, end=end,
                                                        placement=str(placement) if placement else None)
    touched(request, *referrals)
    return CscPlacementList(items=items, collection_year=_year_label(start, end), restricted_omitted=omitted)


@router.get("/v1/placements", response_model=PlacementPage, responses=INVALID,
            summary="Placements, with each child's phase on a date, a page at a time")
async def list_placements(
        request: Request, principal: PlacementReader,
        home: Annotated[uuid.UUID | None, Query(description="Only this home's placements")] = None,
        referral_id: Annotated[uuid.UUID | None, Query(description="Only the placement made from this referral "
                                                                   "(at most one)")] = None,
        status: Annotated[list[Literal["pending", "phase_1", "phase_2", "ended"]] | None,
                          Query(max_length=4)] = None,
        as_of: Annotated[date | None, Query(description="Show the phase and day counter on this date "
                                                         "(default today)")] = None,
        cursor: Cursor = None, limit: Limit = 50) -> PlacementPage:
    """A council sees its own children only; a home manager the placements in their homes. Oldest
    placement first (the order they were made in, which never changes, so paging misses none)."""
    async with runtime_of(request).db.reader() as session:
        rows, next_cursor = await repo.placements_page(session, principal, home=str(home) if home else None,
                                                       status=status, cursor=cursor, limit=limit,
                                                       referral=str(referral_id) if referral_id else None)
        rows, marks, omitted = await repo.screen(session, principal, rows)
        views = await service.placement_views(session, rows, as_of or today(), today())
    touched(request, *[r["referral_id"] for r in rows])
    return PlacementPage(items=[PlacementOut.model_validate({**v, "restriction": marks.get(str(v["referral_id"]))})
                                for v in views], next_cursor=next_cursor, restricted_omitted=omitted)


@router.get("/v1/placements/{placement_id}", response_model=PlacementOut, responses=MISSING,
            summary="A placement: its phase and day counter on any date, its history and what is due")
async def get_placement(placement_id: uuid.UUID, request: Request, principal: PlacementReader,
                        as_of: Annotated[date | None, Query(description="default today")] = None) -> PlacementOut:
    async with runtime_of(request).db.reader() as session:
        row = await repo.get_placement(session, principal, str(placement_id))  # a council's restricted: 451
        if row is None:
            raise NotFound("placement")
        [view] = await service.placement_views(session, [row], as_of or today(), today())
        mark = await repo.restriction_marker(session, principal, row["referral_id"])
    touched(request, row["referral_id"])
    return PlacementOut.model_validate({**view, "restriction": mark})


@router.get("/v1/placements/{placement_id}/ssda903-episodes", response_model=EpisodeList,
            responses={**EPISODE_ANSWERS, **MISSING}, summary="A placement's SSDA903 episodes")
async def placement_episodes(placement_id: uuid.UUID, request: Request, principal: PlacementReader,
                             fmt: EpisodeFormat = None):
    async with runtime_of(request).db.reader() as session:
        rows, referrals, _ = await service.episodes(session, principal, placement=str(placement_id))
    touched(request, *referrals)
    return _episodes_answer(request, rows, fmt, None, None)


def _move(fn, placement_id: uuid.UUID, principal: Principal, **kwargs):
    """A placement move as a write: the operation, then the placement as the API shows it."""
    async def op(uow) -> Written:
        row = await fn(uow, principal, str(placement_id), **kwargs)
        [view] = await service.placement_views(uow.session, [row], today(), today())
        return Written(view, [row["referral_id"]])
    return op


@router.post("/v1/placements/{placement_id}/arrival", response_model=PlacementOut, responses=WRITE_RESPONSES,
             summary="Record the child's arrival: Phase 1, day 1")
async def arrival(placement_id: uuid.UUID, body: Arrival, request: Request, principal: Writer,
                  idempotency_key: IdempotencyKey = None):
    """Emits placement.started (matching occupies the bed) and phase.transitioned to phase_1."""
    return await write(request, principal, _move(
        service.arrive, placement_id, principal, arrival_date=body.arrival_date, key_worker=body.key_worker,
        therapeutic_lead=body.therapeutic_lead, today=today(), now=now(), reason_new_episode=body.reason_new_episode),
        key=idempotency_key, body=body)


@router.post("/v1/placements/{placement_id}/phase-2", response_model=PlacementOut, responses=WRITE_RESPONSES,
             summary="Move to Phase 2 at an effective date")
async def phase_2(placement_id: uuid.UUID, body: PhaseTwo, request: Request, principal: Writer,
                  idempotency_key: IdempotencyKey = None):
    """Needs the Initial Pathway Plan issued. A back-dated move needs a reason and is kept in the
    placement's transitions. Emits phase.transitioned with the effective date (billing splits there)."""
    return await write(request, principal, _move(
        service.transition_to_phase_2, placement_id, principal, effective_date=body.effective_date,
        reason=body.reason, today=today(), now=now()), key=idempotency_key, body=body)


@router.post("/v1/placements/{placement_id}/phase-1-extension", response_model=PlacementOut,
             responses=WRITE_RESPONSES, summary="Extend Phase 1, with a reason and a new end date")
async def extend(placement_id: uuid.UUID, body: Extension, request: Request, principal: Writer,
                 idempotency_key: IdempotencyKey = None):
    return await write(request, principal, _move(
        service.extend_phase_1, placement_id, principal, new_end_date=body.new_end_date, reason=body.reason,
        now=now()), key=idempotency_key, body=body)


@router.put("/v1/placements/{placement_id}/step-down", response_model=PlacementOut,
            responses={**MISSING, **CONFLICT, **INVALID}, summary="Plan the step-down (from Phase 2)")
async def step_down(placement_id: uuid.UUID, body: StepDownPlan, request: Request, principal: Writer):
    """Idempotent by itself: the same plan again changes nothing."""
    return await write(request, principal, _move(
        service.plan_step_down, placement_id, principal, destination=body.destination, target_date=body.target_date,
        readiness_notes=body.readiness_notes, now=now()))


@router.post("/v1/placements/{placement_id}/ending", response_model=PlacementOut, responses=WRITE_RESPONSES,
             summary="End the placement, planned or unplanned")
async def ending(placement_id: uuid.UUID, body: Ending, request: Request, principal: Writer,
                 idempotency_key: IdempotencyKey = None):
    """Emits placement.ended: matching frees the bed and makes it the home's next Pathway Bed. A planned
    step-down may hand the child to the outreach team (`outreach_handoff`): the referral service opens an
    outreach referral from it."""
    return await write(request, principal, _move(
        service.end, placement_id, principal, end_date=body.end_date, ending_type=body.ending_type,
        destination=body.destination, reason_code=body.reason_code, notes=body.notes, today=today(), now=now(),
        reason_place_change=body.reason_place_change,
        outreach_handoff=body.outreach_handoff.model_dump() if body.outreach_handoff else None),
        key=idempotency_key, body=body)


@router.post("/v1/placements/{placement_id}/legal-status", response_model=PlacementOut, responses=WRITE_RESPONSES,
             summary="Record the child's new legal status from the day it took effect")
async def legal_status(placement_id: uuid.UUID, body: LegalStatusChange, request: Request, principal: Writer,
                       idempotency_key: IdempotencyKey = None):
    """A change of legal status during the placement (for example an interim care order, C1, becoming a full
    care order, C2) starts a new SSDA903 episode on its effective day. Emits placement.legal_status_changed;
    the placement shows its legal_status_history. The same change again changes nothing."""
    return await write(request, principal, _move(
        service.change_legal_status, placement_id, principal, legal_status=body.legal_status,
        effective_date=body.effective_date, today=today(), now=now()), key=idempotency_key, body=body)
