"""/v1/placements, /v1/plans, /v1/reviews, /v1/deadlines: the child's time in the home, from arrival
through Phase 1 and Phase 2 to the ending. Councils read their own children (placements:read,
plans:read); the hub's roles write (a home manager only in their homes)."""
from __future__ import annotations

import hashlib
import json
import re
import uuid
from datetime import date, datetime, timezone
from typing import Annotated, Any, Awaitable, Callable, Literal

from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from libs.common.audit import touched
from libs.common.auth import Authorize, Principal
from libs.common.errors import PROBLEM_BASE, Conflict, NotFound, ProblemError
from libs.common.pagination import MAX_CURSOR_LENGTH, InvalidCursor, decode_cursor, encode_cursor
from libs.common.web import runtime_of

from . import repository as repo
from . import service
from .domain.deadlines import deadline_state
from .domain.ending import InvalidEnding, REASON_EPISODE_CEASED
from .domain.placement import IllegalMove, InvalidDate, ReasonRequired
from .domain.plan import PlanNotReady
from .domain.schedule import TASKS_BY_CODE, plan_is_late
from .scheduled import open_deadlines
from .schemas import (Arrival, DeadlineOut, DeadlinePage, Ending, EndingCode, Extension, PhaseTwo, PlacementOut,
                      PlacementPage, PlanEdit, PlanIssue,
                      PlanOut, PlanVersionOut, ReviewCompletion, ReviewOut, StepDownPlan, TaskCode, TaskDone, TaskOut)
from .tables import idempotent_requests, placements, plan_versions, tasks

router = APIRouter(tags=["placements"])

PlacementReader = Annotated[Principal, Authorize("placements:read")]
PlanReader = Annotated[Principal, Authorize("plans:read")]
Writer = Annotated[Principal, Authorize("placements:write", roles=("hub", "home_manager", "provider_admin"),
                                        councils=False)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255, description=(
    "Recommended. The same key with the same body answers the first response again; with another body it is "
    "refused (422)."))]
IfMatch = Annotated[str | None, Header(alias="If-Match")]

CONFLICT = {409: {"description": "Not allowed in the placement's current state; the allowed moves are listed"}}
MISSING = {404: {"description": "No such record for this caller (another council's record is not there)"}}
INVALID = {422: {"description": "Invalid fields: each names the field and the rule it broke"}}
WRITE_RESPONSES = {**MISSING, **CONFLICT, **INVALID, 200: {"description": "A retry with the same Idempotency-Key"}}


def _today() -> date:
    return datetime.now(timezone.utc).date()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _field_problem(field: str, rule: str, message: str) -> ProblemError:
    return ProblemError(422, "Request validation failed", f"Invalid fields: {field} ({rule})",
                        type_=PROBLEM_BASE + "validation-error",
                        errors=[{"field": field, "rule": rule, "message": message}])


def _problem_of(exc: Exception) -> ProblemError:
    """Domain errors as problem documents."""
    if isinstance(exc, service.Missing):
        return NotFound(exc.what)
    if isinstance(exc, IllegalMove):
        return Conflict(str(exc), current_status=exc.current.value, wanted_move=exc.wanted.value,
                        allowed_moves=exc.allowed)
    if isinstance(exc, service.PlanConflict):
        return Conflict(str(exc), **exc.extra)
    if isinstance(exc, InvalidDate):
        return _field_problem(f"body.{exc.field}", "date_in_order", str(exc))
    if isinstance(exc, ReasonRequired):
        return _field_problem("body.reason", "reason_required", str(exc))
    if isinstance(exc, InvalidEnding):
        return _field_problem(f"body.{exc.field}", exc.rule, str(exc))
    if isinstance(exc, PlanNotReady):
        return _field_problem("body.sections", "sections_written", str(exc))
    if isinstance(exc, service.Stale):
        return _stale(exc.current_version)
    raise exc


DOMAIN_ERRORS = (service.Missing, IllegalMove, service.PlanConflict, InvalidDate, ReasonRequired, InvalidEnding,
                 PlanNotReady, service.Stale)


async def _write(request: Request, principal: Principal, key: str | None, body: Any,
                 op: Callable[[Any], Awaitable[tuple[str, Any]]], *, status_code: int = 200) -> JSONResponse:
    """Run a change in one unit of work. With an Idempotency-Key the response is stored in the same
    transaction; a retry with the same key and body answers it again, with another body a 422."""
    route = f"{request.method} {request.url.path}"
    digest = hashlib.sha256(json.dumps([route, jsonable_encoder(body)], sort_keys=True).encode()).hexdigest()
    runtime = runtime_of(request)
    if key is not None:
        replay = await _replayed(runtime, principal, key, digest)
        if replay is not None:
            return replay
    try:
        async with runtime.uow() as uow:
            child_record, answer = await op(uow)
            content = jsonable_encoder(answer)
            if key is not None:
                await uow.session.execute(idempotent_requests.insert().values(
                    client_id=principal.client_id, key=key, route=route, body_sha256=digest, status_code=status_code,
                    response={"body": content, "child_record": child_record}, created_at=_now()))
            await uow.commit()
    except DOMAIN_ERRORS as exc:
        raise _problem_of(exc) from None
    except IntegrityError:
        if key is not None and (replay := await _replayed(runtime, principal, key, digest)) is not None:
            return replay
        raise Conflict("The change conflicted with a concurrent one; read the record again.") from None
    touched(request, child_record)
    return JSONResponse(content, status_code=status_code)


async def _replayed(runtime, principal: Principal, key: str, digest: str) -> JSONResponse | None:
    async with runtime.db.session() as session:
        row = (await session.execute(select(idempotent_requests).where(
            idempotent_requests.c.client_id == principal.client_id, idempotent_requests.c.key == key))).mappings().first()
    if row is None:
        return None
    if row["body_sha256"] != digest:
        raise ProblemError(422, "Idempotency-Key reused", "This Idempotency-Key was used with another request.",
                           type_=PROBLEM_BASE + "idempotency-key-reused",
                           errors=[{"field": "header.idempotency-key", "rule": "idempotency_key_reused",
                                    "message": "same key, different request"}])
    response = JSONResponse(row["response"]["body"], status_code=row["status_code"])
    response.headers["X-Idempotent-Replay"] = "true"
    return response


# --- placements -------------------------------------------------------------------------------------
async def _view(session, row: dict, as_of: date) -> dict:
    return (await _views(session, [row], as_of))[0]


async def _views(session, rows: list[dict], as_of: date) -> list[dict]:
    """Placements as the API shows them; their plans and open reviews read for all of them at once."""
    found_plans, open_reviews = await repo.plans_and_open_reviews(session, [r["id"] for r in rows])
    today = _today()
    return [repo.placement_view(r, found_plans.get(r["id"]), open_reviews.get(r["id"]), as_of, today) for r in rows]


@router.get("/v1/placements/ending-codes", response_model=list[EndingCode], tags=["placements"],
            summary="The reason episode ceased codes an ending carries")
async def ending_codes(principal: PlacementReader) -> list[EndingCode]:
    """SSDA903 (the children looked after return) reason episode ceased codes."""
    return [EndingCode(code=c, label=label) for c, label in REASON_EPISODE_CEASED.items()]


Limit = Annotated[int, Query(ge=1, le=200, description="Page size")]
Cursor = Annotated[str | None, Query(max_length=MAX_CURSOR_LENGTH,
                                     description="next_cursor of the previous page of the same listing")]


def _bad_cursor() -> ProblemError:
    return _field_problem("query.cursor", "cursor", "not a cursor from this listing")


@router.get("/v1/placements", response_model=PlacementPage, responses=INVALID,
            summary="Placements, with each child's phase on a date, a page at a time")
async def list_placements(
        request: Request, principal: PlacementReader,
        home: Annotated[uuid.UUID | None, Query(description="Only this home's placements")] = None,
        status: Annotated[list[Literal["pending", "phase_1", "phase_2", "ended"]] | None, Query()] = None,
        as_of: Annotated[date | None, Query(description="Show the phase and day counter on this date "
                                                         "(default today)")] = None,
        cursor: Cursor = None, limit: Limit = 50) -> PlacementPage:
    """A council sees its own children only; a home manager the placements in their homes. Oldest
    placement first (the order they were made in, which never changes, so paging misses none)."""
    as_of = as_of or _today()
    stmt = repo.readable_placements(principal)
    if home:
        stmt = stmt.where(placements.c.home_id == str(home))
    if status:
        stmt = stmt.where(placements.c.status.in_(status))
    try:
        stmt = repo.oldest_first(stmt, cursor)
    except InvalidCursor:
        raise _bad_cursor() from None
    async with runtime_of(request).db.session() as session:
        rows = [dict(r) for r in (await session.execute(stmt.limit(limit + 1))).mappings().all()]
        more, rows = len(rows) > limit, rows[:limit]
        views = await _views(session, rows, as_of)
    touched(request, *[r["referral_id"] for r in rows])
    return PlacementPage(items=[PlacementOut.model_validate(v) for v in views],
                         next_cursor=repo.next_oldest_first(rows[-1]) if more else None)


@router.get("/v1/placements/{placement_id}", response_model=PlacementOut, responses=MISSING,
            summary="A placement: its phase and day counter on any date, its history and what is due")
async def get_placement(placement_id: uuid.UUID, request: Request, principal: PlacementReader,
                        as_of: Annotated[date | None, Query(description="default today")] = None) -> PlacementOut:
    async with runtime_of(request).db.session() as session:
        row = await repo.get_placement(session, principal, str(placement_id))
        if row is None:
            raise NotFound("placement")
        view = await _view(session, row, as_of or _today())
    touched(request, row["referral_id"])
    return PlacementOut.model_validate(view)


def _placement_op(fn, placement_id: uuid.UUID, principal: Principal, **kwargs):
    async def op(uow):
        row = await fn(uow, principal, str(placement_id), **kwargs)
        return row["referral_id"], await _view(uow.session, row, _today())
    return op


@router.post("/v1/placements/{placement_id}/arrival", response_model=PlacementOut, responses=WRITE_RESPONSES,
             summary="Record the child's arrival: Phase 1, day 1")
async def arrival(placement_id: uuid.UUID, body: Arrival, request: Request, principal: Writer,
                  idempotency_key: IdempotencyKey = None):
    """Emits placement.started (matching occupies the bed) and phase.transitioned to phase_1."""
    return await _write(request, principal, idempotency_key, body, _placement_op(
        service.arrive, placement_id, principal, arrival_date=body.arrival_date, key_worker=body.key_worker,
        therapeutic_lead=body.therapeutic_lead, today=_today(), now=_now()))


@router.post("/v1/placements/{placement_id}/phase-2", response_model=PlacementOut, responses=WRITE_RESPONSES,
             summary="Move to Phase 2 at an effective date")
async def phase_2(placement_id: uuid.UUID, body: PhaseTwo, request: Request, principal: Writer,
                  idempotency_key: IdempotencyKey = None):
    """Needs the Initial Pathway Plan issued. A back-dated move needs a reason and is kept in the
    placement's transitions. Emits phase.transitioned with the effective date (billing splits there)."""
    return await _write(request, principal, idempotency_key, body, _placement_op(
        service.transition_to_phase_2, placement_id, principal, effective_date=body.effective_date,
        reason=body.reason, today=_today(), now=_now()))


@router.post("/v1/placements/{placement_id}/phase-1-extension", response_model=PlacementOut,
             responses=WRITE_RESPONSES, summary="Extend Phase 1, with a reason and a new end date")
async def extend(placement_id: uuid.UUID, body: Extension, request: Request, principal: Writer,
                 idempotency_key: IdempotencyKey = None):
    return await _write(request, principal, idempotency_key, body, _placement_op(
        service.extend_phase_1, placement_id, principal, new_end_date=body.new_end_date, reason=body.reason,
        now=_now()))


@router.put("/v1/placements/{placement_id}/step-down", response_model=PlacementOut,
            responses={**MISSING, **CONFLICT, **INVALID}, summary="Plan the step-down (from Phase 2)")
async def step_down(placement_id: uuid.UUID, body: StepDownPlan, request: Request, principal: Writer):
    return await _write(request, principal, None, body, _placement_op(
        service.plan_step_down, placement_id, principal, destination=body.destination, target_date=body.target_date,
        readiness_notes=body.readiness_notes, now=_now()))


@router.post("/v1/placements/{placement_id}/ending", response_model=PlacementOut, responses=WRITE_RESPONSES,
             summary="End the placement, planned or unplanned")
async def ending(placement_id: uuid.UUID, body: Ending, request: Request, principal: Writer,
                 idempotency_key: IdempotencyKey = None):
    """Emits placement.ended: matching frees the bed and makes it the home's next Pathway Bed."""
    return await _write(request, principal, idempotency_key, body, _placement_op(
        service.end, placement_id, principal, end_date=body.end_date, ending_type=body.ending_type,
        destination=body.destination, reason_code=body.reason_code, notes=body.notes, today=_today(), now=_now()))


# --- Phase 1 tasks ----------------------------------------------------------------------------------
def _task_out(t: dict, today: date) -> TaskOut:
    state = deadline_state(t["due_date"], t["done_on"] is not None, today)
    return TaskOut(code=t["code"], label=TASKS_BY_CODE[t["code"]].label, due_date=t["due_date"], owner=t["owner"],
                   done_on=t["done_on"], done_by=t["done_by"], state=state)


@router.get("/v1/placements/{placement_id}/tasks", response_model=list[TaskOut], responses=MISSING,
            summary="Phase 1 foundation tasks, their due dates and owners")
async def list_tasks(placement_id: uuid.UUID, request: Request, principal: PlacementReader) -> list[TaskOut]:
    async with runtime_of(request).db.session() as session:
        row = await repo.get_placement(session, principal, str(placement_id))
        if row is None:
            raise NotFound("placement")
        rows = (await session.execute(select(tasks).where(tasks.c.placement_id == row["id"])
                                      .order_by(tasks.c.due_date, tasks.c.code))).mappings().all()
    touched(request, row["referral_id"])
    return [_task_out(dict(t), _today()) for t in rows]


@router.post("/v1/placements/{placement_id}/tasks/{code}/complete", response_model=TaskOut,
             responses=WRITE_RESPONSES, summary="Mark a foundation task done")
async def complete_task(placement_id: uuid.UUID, code: TaskCode, body: TaskDone, request: Request, principal: Writer,
                        idempotency_key: IdempotencyKey = None):
    async def op(uow):
        task = await service.complete_task(uow, principal, str(placement_id), code, done_on=body.done_on,
                                           owner=body.owner, today=_today())
        row = await repo.get_placement(uow.session, principal, str(placement_id))
        return row["referral_id"], _task_out(task, _today())
    return await _write(request, principal, idempotency_key, body, op)


# --- plans ------------------------------------------------------------------------------------------
_ETAG = re.compile(r'^(?:W/)?"(\d{1,12})"$')


def _matches(if_match: str, version: int) -> bool:
    if if_match.strip() == "*":
        return True
    return any((m := _ETAG.match(t.strip())) is not None and int(m.group(1)) == version for t in if_match.split(","))


def _stale(current_version: int) -> ProblemError:
    return ProblemError(412, "Precondition Failed", "The plan has changed since you read it: read it again and "
                        "re-apply your change.", type_=PROBLEM_BASE + "stale-etag",
                        headers={"ETag": f'"{current_version}"'}, current_etag=f'"{current_version}"')


async def _plan_out(session, plan: dict, placement: dict, principal: Principal) -> PlanOut:
    versions = (await session.execute(select(plan_versions).where(plan_versions.c.plan_id == plan["id"])
                                      .order_by(plan_versions.c.version))).mappings().all()
    current = dict(versions[-1]) if versions else None
    return PlanOut(id=plan["id"], placement_id=plan["placement_id"],
                   status="issued" if plan["issued_version"] else "draft", due_date=plan["due_date"],
                   late=plan_is_late(placement["arrival_date"], plan["issued_on"], _today()),
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
    response.headers["ETag"] = f'"{plan["version"]}"'
    return out


@router.get("/v1/placements/{placement_id}/plan", response_model=PlanOut, responses=MISSING, tags=["plans"],
            summary="The placement's pathway plan (from arrival)")
async def placement_plan(placement_id: uuid.UUID, request: Request, response: Response,
                         principal: PlanReader) -> PlanOut:
    return await _read_plan(request, principal, response, placement_id=str(placement_id))


@router.get("/v1/plans/{plan_id}", response_model=PlanOut, responses=MISSING, tags=["plans"],
            summary="A pathway plan: its current issued version, its versions and (for the hub) the draft")
async def get_plan(plan_id: uuid.UUID, request: Request, response: Response, principal: PlanReader) -> PlanOut:
    return await _read_plan(request, principal, response, plan_id=str(plan_id))


@router.get("/v1/plans/{plan_id}/versions", response_model=list[PlanVersionOut], responses=MISSING, tags=["plans"],
            summary="Every issued version of a plan, oldest first")
async def list_versions(plan_id: uuid.UUID, request: Request, principal: PlanReader) -> list[PlanVersionOut]:
    async with runtime_of(request).db.session() as session:
        plan, placement = await repo.get_plan(session, principal, str(plan_id))
        if plan is None:
            raise NotFound("plan")
        rows = (await session.execute(select(plan_versions).where(plan_versions.c.plan_id == plan["id"])
                                      .order_by(plan_versions.c.version))).mappings().all()
    touched(request, placement["referral_id"])
    return [PlanVersionOut.model_validate(dict(r)) for r in rows]


@router.get("/v1/plans/{plan_id}/versions/{version}", response_model=PlanVersionOut, responses=MISSING,
            tags=["plans"], summary="One issued version of a plan")
async def get_version(plan_id: uuid.UUID, version: Annotated[int, Path(ge=1, le=10_000)],
                      request: Request, principal: PlanReader) -> PlanVersionOut:
    async with runtime_of(request).db.session() as session:
        plan, placement = await repo.get_plan(session, principal, str(plan_id))
        if plan is None:
            raise NotFound("plan")
        row = (await session.execute(select(plan_versions).where(plan_versions.c.plan_id == plan["id"],
                                                                 plan_versions.c.version == version))).mappings().first()
    touched(request, placement["referral_id"])
    if row is None:
        raise NotFound("plan version")
    return PlanVersionOut.model_validate(dict(row))


@router.patch("/v1/plans/{plan_id}", response_model=PlanOut, tags=["plans"],
              responses={**MISSING, **CONFLICT, **INVALID, 412: {"description": "If-Match is stale"},
                         428: {"description": "If-Match is missing"}},
              summary="Edit the plan's sections (the working copy), with If-Match")
async def edit_plan(plan_id: uuid.UUID, body: PlanEdit, request: Request, response: Response, principal: Writer,
                    if_match: IfMatch = None) -> PlanOut:
    if if_match is None:
        raise ProblemError(428, "Precondition Required", 'Send If-Match with the plan\'s ETag (for example '
                           'If-Match: "3") so that an edit never overwrites one you have not seen.',
                           type_=PROBLEM_BASE + "if-match-required")
    runtime = runtime_of(request)
    try:
        async with runtime.uow() as uow:
            plan = await service.edit_plan(uow, principal, str(plan_id), body.sections.given(),
                                           lambda v: _matches(if_match, v), _now())
            await uow.commit()
    except DOMAIN_ERRORS as exc:
        raise _problem_of(exc) from None
    return await _read_plan(request, principal, response, plan_id=plan["id"])


@router.post("/v1/plans/{plan_id}/issue", response_model=PlanOut, tags=["plans"],
             responses={**WRITE_RESPONSES, 412: {"description": "If-Match (optional here) is stale"}},
             summary="Issue the Initial Pathway Plan to the council (version 1)")
async def issue_plan(plan_id: uuid.UUID, request: Request, principal: Writer, body: PlanIssue | None = None,
                     idempotency_key: IdempotencyKey = None, if_match: IfMatch = None):
    """Every section must be written. Emits pathway_plan.issued (version 1). Later versions come from reviews."""
    precondition = None if if_match is None else (lambda v: _matches(if_match, v))

    async def op(uow):
        plan = await service.issue_plan(uow, principal, str(plan_id), precondition=precondition, today=_today(),
                                        issued_on=(body or PlanIssue()).issued_on or _today(), now=_now())
        _, placement = await repo.get_plan(uow.session, principal, plan["id"])
        return placement["referral_id"], await _plan_out(uow.session, plan, placement, principal)
    return await _write(request, principal, idempotency_key, body or PlanIssue(), op)


# --- reviews ----------------------------------------------------------------------------------------
def _review_out(r: dict) -> ReviewOut:
    state = "completed" if r["completed_on"] else deadline_state(r["due_date"], False, _today())
    return ReviewOut(state=state, **{k: r[k] for k in ("id", "placement_id", "number", "kind", "due_date",
                                                       "completed_on", "attendees", "findings", "plan_version")})


@router.get("/v1/placements/{placement_id}/reviews", response_model=list[ReviewOut], responses=MISSING,
            tags=["reviews"], summary="The plan reviews: the 90-day review, then every 6 months")
async def list_reviews(placement_id: uuid.UUID, request: Request, principal: PlanReader) -> list[ReviewOut]:
    async with runtime_of(request).db.session() as session:
        row = await repo.get_placement(session, principal, str(placement_id))
        if row is None:
            raise NotFound("placement")
        rows = await repo.reviews_of(session, row["id"])
    touched(request, row["referral_id"])
    return [_review_out(r) for r in rows]


@router.get("/v1/reviews/{review_id}", response_model=ReviewOut, responses=MISSING, tags=["reviews"],
            summary="A plan review")
async def get_review(review_id: uuid.UUID, request: Request, principal: PlanReader) -> ReviewOut:
    async with runtime_of(request).db.session() as session:
        review, placement = await repo.get_review(session, principal, str(review_id))
    if review is None:
        raise NotFound("review")
    touched(request, placement["referral_id"])
    return _review_out(review)


@router.post("/v1/reviews/{review_id}/complete", response_model=ReviewOut, responses=WRITE_RESPONSES,
             tags=["reviews"], summary="Complete a review: attendees, findings, and a new plan version")
async def complete_review(review_id: uuid.UUID, body: ReviewCompletion, request: Request, principal: Writer,
                          idempotency_key: IdempotencyKey = None):
    """Emits review.completed and pathway_plan.issued (the next version); schedules the next review."""
    async def op(uow):
        review = await service.complete_review(
            uow, principal, str(review_id), completed_on=body.completed_on, attendees=body.attendees,
            findings=body.findings, sections=body.sections.given() if body.sections else {}, today=_today(),
            now=_now())
        _, placement = await repo.get_review(uow.session, principal, review["id"])
        return placement["referral_id"], _review_out(review)
    return await _write(request, principal, idempotency_key, body, op)


# --- deadlines --------------------------------------------------------------------------------------
DEADLINE_CURSOR = "dl"


@router.get("/v1/deadlines", response_model=DeadlinePage, tags=["deadlines"], responses=INVALID,
            summary="What is due or late: plan, Phase 1 task and review deadlines, a page at a time")
async def list_deadlines(
        request: Request, principal: PlacementReader,
        home: Annotated[uuid.UUID | None, Query(description="One home's deadlines")] = None,
        state: Annotated[Literal["upcoming", "due_soon", "overdue"] | None, Query(
            description="overdue: past the due date and not met; due_soon: within 3 days")] = None,
        placement: Annotated[uuid.UUID | None, Query()] = None,
        cursor: Cursor = None, limit: Limit = 50) -> DeadlinePage:
    """Soonest due first, then by deadline_key."""
    after = None
    if cursor:
        try:
            after = tuple(decode_cursor(cursor, DEADLINE_CURSOR, date, str))
        except InvalidCursor:
            raise _bad_cursor() from None
    stmt = repo.readable_placements(principal)
    if home:
        stmt = stmt.where(placements.c.home_id == str(home))
    if placement:
        stmt = stmt.where(placements.c.id == str(placement))
    async with runtime_of(request).db.session() as session:
        found = await open_deadlines(session, stmt, _today())   # sorted by (due_date, deadline_key)
    found = [d for d in found if (state is None or d["state"] == state)
             and (after is None or (d["due_date"], d["deadline_key"]) > after)]
    page = found[:limit]
    touched(request, *dict.fromkeys(d["referral_id"] for d in page))
    return DeadlinePage(items=[DeadlineOut.model_validate(d) for d in page],
                        next_cursor=encode_cursor(DEADLINE_CURSOR, page[-1]["due_date"], page[-1]["deadline_key"])
                        if len(found) > limit else None)
