"""/v1/reviews: the plan reviews, the 90-day review then one every 6 months; completing one issues the
next plan version."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Request

from libs.common.audit import touched
from libs.common.errors import NotFound
from libs.common.http import IdempotencyKey, Written, write
from libs.common.web import runtime_of

from .. import repository as repo
from .. import service
from ..domain.deadlines import deadline_state
from ..schemas import ReviewCompletion, ReviewOut, ReviewPage
from .common import MISSING, WRITE_RESPONSES, PlanReader, Writer, now, today

router = APIRouter(tags=["reviews"])


def _review_out(r: dict) -> ReviewOut:
    state = "completed" if r["completed_on"] else deadline_state(r["due_date"], False, today())
    return ReviewOut(state=state, **{k: r[k] for k in ("id", "placement_id", "number", "kind", "due_date",
                                                       "completed_on", "attendees", "findings", "plan_version")})


@router.get("/v1/placements/{placement_id}/reviews", response_model=ReviewPage, responses=MISSING,
            summary="The plan reviews: the 90-day review, then every 6 months")
async def list_reviews(placement_id: uuid.UUID, request: Request, principal: PlanReader) -> ReviewPage:
    async with runtime_of(request).db.reader() as session:
        row = await repo.get_placement(session, principal, str(placement_id))
        if row is None:
            raise NotFound("placement")
        found = await repo.reviews_of(session, row["id"])
    touched(request, row["referral_id"])
    return ReviewPage(items=[_review_out(r) for r in found], next_cursor=None)


@router.get("/v1/reviews/{review_id}", response_model=ReviewOut, responses=MISSING, summary="A plan review")
async def get_review(review_id: uuid.UUID, request: Request, principal: PlanReader) -> ReviewOut:
    async with runtime_of(request).db.reader() as session:
        review, placement = await repo.get_review(session, principal, str(review_id))
    if review is None:
        raise NotFound("review")
    touched(request, placement["referral_id"])
    return _review_out(review)


@router.post("/v1/reviews/{review_id}/complete", response_model=ReviewOut, responses=WRITE_RESPONSES,
             summary="Complete a review: attendees, findings, and a new plan version")
async def complete_review(review_id: uuid.UUID, body: ReviewCompletion, request: Request, principal: Writer,
                          idempotency_key: IdempotencyKey = None):
    """Emits review.completed and pathway_plan.issued (the next version); schedules the next review."""
    async def op(uow) -> Written:
        review, placement = await service.complete_review(
            uow, principal, str(review_id), completed_on=body.completed_on, attendees=body.attendees,
            findings=body.findings, sections=body.sections.given() if body.sections else {}, today=today(),
            now=now())
        return Written(_review_out(review), [placement["referral_id"]])
    return await write(request, principal, op, key=idempotency_key, body=body)
