"""/v1/referrals: councils refer a child, read, update and withdraw their referrals; the hub reads
them all and works through the queue of referrals awaiting a decision.

HTTP only: parse, authorise, run the service's operations through libs.common.http.write (which owns
the transaction and the Idempotency-Key), shape the answer. Domain errors are mapped in api/__init__.py.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Request, Response

from libs.common.audit import touched
from libs.common.errors import PROBLEM_BASE, ProblemError, field_problem
from libs.common.http import IfMatch, RequiredIdempotencyKey, RequiredIfMatch, etag, write
from libs.common.web import runtime_of

from .. import repository as repo
from .. import service
from ..repository import ReferralFilter
from ..schemas import (NOT_NULL, Kind, QueryDate, Referral, ReferralCreate, ReferralPage, ReferralPatch, StatusName,
                       Urgency, Withdrawal)
from ._common import Config, Reader, Writer, referral_view, written

router = APIRouter(prefix="/v1/referrals", tags=["referrals"])

MAX_FILTER_VALUES = 10  # a repeated filter (status=..&status=..) names each value once; a few more is harmless


# --- intake -----------------------------------------------------------------------------------------
@router.post("", status_code=201, response_model=Referral, summary="Refer a child",
             responses={201: {"description": "The referral made; a retry with the same Idempotency-Key and body "
                                             "answers this same response again, with `Idempotent-Replayed: true`"},
                        409: {"description": "A request with this Idempotency-Key is still running (Retry-After)"},
                        422: {"description": "Invalid fields, or the Idempotency-Key was used with another body"}})
async def create_referral(body: ReferralCreate, request: Request, principal: Writer, settings: Config,
                          idempotency_key: RequiredIdempotencyKey = None):
    """Stores the referral and emits referral.received in the same transaction (the outbox).
    The referring council is the caller's own: it comes from the token, never from the body."""
    if not principal.is_council:
        raise ProblemError(403, "Forbidden", "Referrals are made by a council's client.",
                           type_=PROBLEM_BASE + "forbidden")

    async def op(uow):
        row = await service.refer(uow, settings, la_code=principal.la_code, body=body)
        return written(row, status_code=201, headers={"Location": f"/v1/referrals/{row['id']}"})

    return await write(request, principal, op, key=idempotency_key, body=await request.json(), key_required=True)


# --- reads ------------------------------------------------------------------------------------------
@router.get("", response_model=ReferralPage, summary="List referrals")
async def list_referrals(
        request: Request, principal: Reader,
        status: Annotated[list[StatusName] | None, Query(description="Repeat for several",
                                                         max_length=MAX_FILTER_VALUES)] = None,
        urgency: Annotated[list[Urgency] | None, Query(description="Repeat for several",
                                                       max_length=MAX_FILTER_VALUES)] = None,
        received_from: Annotated[QueryDate | None, Query(description="Received on or after this day (UTC), "
                                                                     "YYYY-MM-DD")] = None,
        received_to: Annotated[QueryDate | None, Query(description="Received on or before this day (UTC), "
                                                                   "YYYY-MM-DD")] = None,
        wanted_start_from: Annotated[QueryDate | None, Query(description="YYYY-MM-DD")] = None,
        wanted_start_to: Annotated[QueryDate | None, Query(description="YYYY-MM-DD")] = None,
        child_ref: Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9/_.-]*$")] = None,
        kind: Annotated[Kind | None, Query(description="bed or outreach referrals only")] = None,
        awaiting: Annotated[Literal["decision"] | None, Query(
            description="decision: the hub's queue of undecided referrals, most urgent first, then the longest "
                        "waiting; each item shows waiting_seconds")] = None,
        cursor: Annotated[str | None, Query(max_length=512)] = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50) -> ReferralPage:
    """A council sees only its own referrals; the hub sees every council's."""
    wanted = ReferralFilter(status=tuple(status or ()), urgency=tuple(urgency or ()), received_from=received_from,
                            received_to=received_to, wanted_start_from=wanted_start_from,
                            wanted_start_to=wanted_start_to, child_ref=child_ref,
                            awaiting_decision=awaiting == "decision", kind=kind)
    async with runtime_of(request).db.reader() as session:
        rows, next_cursor = await service.page(session, principal, wanted, cursor, limit)
        marks, omitted = await service.restriction_marks(session, principal, [r["id"] for r in rows])
    now = datetime.now(timezone.utc)
    touched(request, *[r["id"] for r in rows])
    return ReferralPage(items=[Referral.model_validate(
        {**repo.to_response(r, now=now, with_waiting=awaiting is not None), "restriction": marks.get(r["id"])})
        for r in rows], next_cursor=next_cursor, restricted_omitted=omitted)


@router.get("/{referral_id}", response_model=Referral, summary="Read a referral",
            responses={451: {"description": "A council's read of its child's record under a restriction of "
                                            "processing (decision 0006): the reason code and date, not the record"}})
async def get_referral(referral_id: uuid.UUID, request: Request, response: Response, principal: Reader) -> Referral:
    async with runtime_of(request).db.reader() as session:
        row = await service.read(session, principal, str(referral_id))  # a refusal is audited by the gateway
        marks = {} if principal.is_council else (await service.restriction_marks(session, principal, [row["id"]]))[0]
    touched(request, row["id"])
    response.headers["ETag"] = etag(row["version"])
    return Referral.model_validate({**repo.to_response(row), "restriction": marks.get(row["id"])})


# --- changes ----------------------------------------------------------------------------------------
def _columns(patch: ReferralPatch) -> dict:
    """A merge patch as column values (the postcode is kept as its outward code)."""
    changes = {k: getattr(patch, k) for k in patch.model_fields_set}
    nulls = [k for k in NOT_NULL if k in changes and changes[k] is None]
    if nulls:
        raise field_problem(f"body.{nulls[0]}", "not_null", "this field cannot be removed")
    values = {}
    for name, value in changes.items():
        if name == "home_postcode":
            values["home_outward_code"] = value
        elif name in ("needs", "risks"):
            values[name] = [v.model_dump() for v in value]
        elif name == "social_worker":
            values[name] = value.model_dump()
        elif name == "placement_request":
            values[name] = value.model_dump(mode="json", exclude_none=True) if value is not None else None
        else:
            values[name] = value
    return values


@router.patch("/{referral_id}", response_model=Referral, summary="Update a referral",
              responses={409: {"description": "The referral is decided and can no longer change"},
                         412: {"description": "If-Match is stale"}, 428: {"description": "If-Match is missing"}})
async def update_referral(referral_id: uuid.UUID, patch: ReferralPatch, request: Request, principal: Writer,
                          settings: Config, if_match: RequiredIfMatch):
    """A JSON merge patch of an open referral (received or in_assessment), with If-Match."""
    values = _columns(patch)

    async def op(uow):
        return written(await service.change(uow, settings, principal, str(referral_id), values, if_match))

    return await write(request, principal, op)


@router.post("/{referral_id}/withdraw", response_model=Referral, summary="Withdraw a referral",
             responses={409: {"description": "The referral is already decided; the allowed moves are listed"},
                        412: {"description": "If-Match (optional here) is stale"}})
async def withdraw_referral(referral_id: uuid.UUID, request: Request, principal: Writer, if_match: IfMatch,
                            withdrawal: Annotated[Withdrawal | None, Body()] = None):
    """Withdrawing twice is harmless: a withdrawn referral answers as it is."""
    reason = (withdrawal or Withdrawal()).reason

    async def op(uow):
        return written(await service.withdraw(uow, principal, str(referral_id), reason, if_match))

    return await write(request, principal, op)
