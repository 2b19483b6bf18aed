"""/v1/referrals: councils refer a child, read, update and withdraw their referrals; the hub reads
them all and works through the queue of referrals awaiting a decision."""
from __future__ import annotations

import re
import uuid
from datetime import date, datetime, time, timedelta, timezone
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Header, Query, Request, Response

from libs.common.audit import touched
from libs.common.auth import Authorize, Principal
from libs.common.errors import PROBLEM_BASE, Conflict, NotFound, ProblemError
from libs.common.pagination import InvalidCursor
from libs.common.vocabulary import NEEDS_AND_RISKS, SEVERITIES
from libs.common.web import runtime_of

from . import repository as repo
from .domain.idempotency import InvalidKey, body_fingerprint, check_key
from .domain.referral import LEGAL_STATUSES, URGENCIES, AgeOutsideRange
from .domain.status import OPEN, IllegalMove, allowed_moves
from .schemas import (NOT_NULL, Referral, ReferralCreate, ReferralPage, ReferralPatch, StatusName, Urgency,
                      Vocabulary, VocabularyTerm, Withdrawal)
from . import service
from .service import KeyReused, refer
from .settings import ReferralSettings
from .tables import referrals

router = APIRouter(prefix="/v1/referrals", tags=["referrals"])

Reader = Annotated[Principal, Authorize("referrals:read")]
Writer = Annotated[Principal, Authorize("referrals:write")]


def referral_settings(request: Request) -> ReferralSettings:
    return request.app.state.referral_settings


Config = Annotated[ReferralSettings, Depends(referral_settings)]


def etag(version: int) -> str:
    return f'"{version}"'


def _answer(request: Request, response: Response, row: dict, status_code: int | None = None) -> Referral:
    touched(request, row["id"])
    response.headers["ETag"] = etag(row["version"])
    if status_code:
        response.status_code = status_code
    return Referral.model_validate(repo.to_response(row))


def _field_problem(field: str, rule: str, message: str) -> ProblemError:
    return ProblemError(422, "Request validation failed", f"Invalid fields: {field} ({rule})",
                        type_=PROBLEM_BASE + "validation-error",
                        errors=[{"field": field, "rule": rule, "message": message}])


# --- reference data ---------------------------------------------------------------------------------
@router.get("/vocabulary", response_model=Vocabulary, summary="The codes a referral uses")
async def vocabulary(principal: Reader) -> Vocabulary:
    """Needs and risks (one controlled vocabulary, shared with matching), severities, looked-after
    children legal status codes and urgencies."""
    return Vocabulary(needs_and_risks=[VocabularyTerm(code=t.code, label=t.label, group=t.group)
                                       for t in NEEDS_AND_RISKS.values()],
                      severities=list(SEVERITIES), legal_statuses=LEGAL_STATUSES, urgencies=list(URGENCIES))


# --- intake -----------------------------------------------------------------------------------------
@router.post("", status_code=201, response_model=Referral, summary="Refer a child",
             responses={200: {"model": Referral, "description": "A retry: this Idempotency-Key already made "
                                                                "this referral, which is returned unchanged"},
                        422: {"description": "Invalid fields, or the Idempotency-Key was used with another body"}})
async def create_referral(body: ReferralCreate, request: Request, response: Response, principal: Writer,
                          settings: Config,
                          idempotency_key: Annotated[str | None, Header(
                              alias="Idempotency-Key", description="Required. The same key with the same body "
                              "returns the same referral; with a different body it is refused.")] = None) -> Referral:
    """Stores the referral and emits referral.received in the same transaction (the outbox).
    The referring council is the caller's own: it comes from the token, never from the body."""
    if not principal.is_council:
        raise ProblemError(403, "Forbidden", "Referrals are made by a council's client.")
    if idempotency_key is None:
        raise ProblemError(400, "Idempotency-Key required", "Send an Idempotency-Key header (a UUID is a good "
                           "choice) so that a retried request cannot refer the child twice.",
                           type_=PROBLEM_BASE + "idempotency-key-missing")
    try:
        key = check_key(idempotency_key)
    except InvalidKey as exc:
        raise ProblemError(400, "Invalid Idempotency-Key", str(exc), type_=PROBLEM_BASE + "idempotency-key-invalid")
    try:
        intake = await refer(runtime_of(request), settings, la_code=principal.la_code, key=key,
                             fingerprint=body_fingerprint(await request.json()), body=body)
    except KeyReused:
        raise ProblemError(422, "Idempotency-Key reused", "This Idempotency-Key was already used with a different "
                           "request body. Use a new key for a new referral.",
                           type_=PROBLEM_BASE + "idempotency-key-reused") from None
    except AgeOutsideRange as exc:
        raise _field_problem("body.date_of_birth", "age_range", str(exc)) from None
    response.headers["Location"] = f"/v1/referrals/{intake.referral['id']}"
    return _answer(request, response, intake.referral, status_code=None if intake.created else 200)


# --- reads ------------------------------------------------------------------------------------------
@router.get("", response_model=ReferralPage, summary="List referrals")
async def list_referrals(
        request: Request, principal: Reader,
        status: Annotated[list[StatusName] | None, Query(description="Repeat for several")] = None,
        urgency: Annotated[list[Urgency] | None, Query(description="Repeat for several")] = None,
        received_from: Annotated[date | None, Query(description="Received on or after this day (UTC)")] = None,
        received_to: Annotated[date | None, Query(description="Received on or before this day (UTC)")] = None,
        wanted_start_from: date | None = None,
        wanted_start_to: date | None = None,
        child_ref: Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9/_.-]*$")] = None,
        awaiting: Annotated[Literal["decision"] | None, Query(
            description="decision: the hub's queue of undecided referrals, most urgent first, then the longest "
                        "waiting; each item shows waiting_seconds")] = None,
        cursor: str | None = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50) -> ReferralPage:
    """A council sees only its own referrals; the hub sees every council's."""
    stmt = repo.readable_referrals(principal)
    if status:
        stmt = stmt.where(referrals.c.status.in_(status))
    if urgency:
        stmt = stmt.where(referrals.c.urgency.in_(urgency))
    if received_from:
        stmt = stmt.where(referrals.c.received_at >= datetime.combine(received_from, time(), timezone.utc))
    if received_to and received_to < date.max:
        stmt = stmt.where(referrals.c.received_at < datetime.combine(received_to + timedelta(days=1), time(),
                                                                     timezone.utc))
    if wanted_start_from:
        stmt = stmt.where(referrals.c.wanted_start_date >= wanted_start_from)
    if wanted_start_to:
        stmt = stmt.where(referrals.c.wanted_start_date <= wanted_start_to)
    if child_ref:
        stmt = stmt.where(referrals.c.child_ref == child_ref)
    try:
        if awaiting == "decision":
            stmt = repo.decision_queue(stmt.where(referrals.c.status.in_([s.value for s in OPEN])), cursor)
            next_of = repo.next_decision_queue
        else:
            stmt = repo.newest_first(stmt, cursor)
            next_of = repo.next_newest_first
    except InvalidCursor:
        raise _field_problem("query.cursor", "cursor", "not a cursor from this listing") from None
    async with runtime_of(request).db.session() as session:
        rows = [dict(r) for r in (await session.execute(stmt.limit(limit + 1))).mappings().all()]
    more = len(rows) > limit
    rows = rows[:limit]
    now = datetime.now(timezone.utc)
    touched(request, *[r["id"] for r in rows])
    return ReferralPage(items=[Referral.model_validate(repo.to_response(r, now=now, with_waiting=awaiting is not None))
                               for r in rows],
                        next_cursor=next_of(rows[-1]) if more else None)


@router.get("/{referral_id}", response_model=Referral, summary="Read a referral")
async def get_referral(referral_id: uuid.UUID, request: Request, response: Response, principal: Reader) -> Referral:
    async with runtime_of(request).db.session() as session:
        row = await repo.get(session, principal, str(referral_id))
    if row is None:
        raise NotFound("referral")
    return _answer(request, response, row)


# --- changes ----------------------------------------------------------------------------------------
_ETAG = re.compile(r'^(?:W/)?"(\d{1,12})"$')


def _require_if_match(if_match: str | None) -> str:
    if if_match is None:
        raise ProblemError(428, "Precondition Required", 'Send If-Match with the referral\'s ETag (for example '
                           'If-Match: "3") so that a change never overwrites one you have not seen.',
                           type_=PROBLEM_BASE + "if-match-required")
    return if_match


def _matches(if_match: str, version: int) -> bool:
    """If-Match holds "*" or a list of ETags (weak ones compared by their value)."""
    if if_match.strip() == "*":
        return True
    tags = (_ETAG.match(t.strip()) for t in if_match.split(","))
    return any(m is not None and int(m.group(1)) == version for m in tags)


def _stale(current_version: int) -> ProblemError:
    return ProblemError(412, "Precondition Failed", "The referral has changed since you read it: read it again "
                        "and re-apply your change.", type_=PROBLEM_BASE + "stale-etag",
                        headers={"ETag": etag(current_version)}, current_etag=etag(current_version))


@router.patch("/{referral_id}", response_model=Referral, summary="Update a referral",
              responses={409: {"description": "The referral is decided and can no longer change"},
                         412: {"description": "If-Match is stale"}, 428: {"description": "If-Match is missing"}})
async def update_referral(referral_id: uuid.UUID, patch: ReferralPatch, request: Request, response: Response,
                          principal: Writer, settings: Config,
                          if_match: Annotated[str | None, Header(alias="If-Match")] = None) -> Referral:
    """A JSON merge patch of an open referral (received or in_assessment), with If-Match."""
    if_match = _require_if_match(if_match)
    changes = {k: getattr(patch, k) for k in patch.model_fields_set}
    nulls = [k for k in NOT_NULL if k in changes and changes[k] is None]
    if nulls:
        raise _field_problem(f"body.{nulls[0]}", "not_null", "this field cannot be removed")
    values = {}
    for name, value in changes.items():
        if name == "home_postcode":
            values["home_outward_code"] = value
        elif name in ("needs", "risks"):
            values[name] = [v.model_dump() for v in value]
        elif name == "social_worker":
            values[name] = value.model_dump()
        else:
            values[name] = value
    try:
        row = await service.change(runtime_of(request), settings, principal, str(referral_id), values,
                                   lambda version: _matches(if_match, version))
    except service.Missing:
        raise NotFound("referral") from None
    except service.Stale as exc:
        raise _stale(exc.current_version) from None
    except service.Closed as exc:
        raise Conflict(f"A referral that is {exc.status} can no longer be changed.", current_status=exc.status,
                       allowed_moves=allowed_moves(exc.status)) from None
    except AgeOutsideRange as exc:
        raise _field_problem("body.date_of_birth", "age_range", str(exc)) from None
    return _answer(request, response, row)


@router.post("/{referral_id}/withdraw", response_model=Referral, summary="Withdraw a referral",
             responses={409: {"description": "The referral is already decided; the allowed moves are listed"},
                        412: {"description": "If-Match (optional here) is stale"}})
async def withdraw_referral(referral_id: uuid.UUID, request: Request, response: Response, principal: Writer,
                            withdrawal: Annotated[Withdrawal | None, Body()] = None,
                            if_match: Annotated[str | None, Header(alias="If-Match")] = None) -> Referral:
    """Withdrawing twice is harmless: a withdrawn referral answers as it is."""
    precondition = None if if_match is None else (lambda version: _matches(if_match, version))
    try:
        row = await service.withdraw(runtime_of(request), principal, str(referral_id),
                                     (withdrawal or Withdrawal()).reason, precondition)
    except service.Missing:
        raise NotFound("referral") from None
    except service.Stale as exc:
        raise _stale(exc.current_version) from None
    except IllegalMove as exc:
        raise Conflict(f"A referral that is {exc.current.value} cannot be withdrawn.",
                       current_status=exc.current.value, allowed_moves=exc.allowed) from None
    return _answer(request, response, row)
