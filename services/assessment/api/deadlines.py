"""/v1/deadlines: what is due or late (the plan, the Phase 1 tasks, the reviews), computed, a page at a time."""
from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from libs.common.audit import touched
from libs.common.pagination import decode_cursor, encode_cursor
from libs.common.web import runtime_of

from .. import repository as repo
from .. import service
from ..schemas import DeadlineOut, DeadlinePage
from .common import INVALID, Cursor, Limit, PlacementReader, today

router = APIRouter(tags=["deadlines"])

DEADLINE_CURSOR = "dl"


@router.get("/v1/deadlines", response_model=DeadlinePage, responses=INVALID,
            summary="What is due or late: plan, Phase 1 task and review deadlines, a page at a time")
async def list_deadlines(
        request: Request, principal: PlacementReader,
        home: Annotated[uuid.UUID | None, Query(description="One home's deadlines")] = None,
        state: Annotated[Literal["upcoming", "due_soon", "overdue"] | None, Query(
            description="overdue: past the due date and not met; due_soon: within 3 days")] = None,
        placement: Annotated[uuid.UUID | None, Query()] = None,
        cursor: Cursor = None, limit: Limit = 50) -> DeadlinePage:
    """Soonest due first, then by deadline_key. A cursor of another listing is a 422 naming query.cursor."""
    after = tuple(decode_cursor(cursor, DEADLINE_CURSOR, date, str)) if cursor else None
    async with runtime_of(request).db.reader() as session:
        found = await service.deadlines(session, principal, home=str(home) if home else None,
                                        placement=str(placement) if placement else None, today=today())
        found, _, omitted = await repo.screen(session, principal, found)  # a council's restricted child: left out
    found = [d for d in found if (state is None or d["state"] == state)
             and (after is None or (d["due_date"], d["deadline_key"]) > after)]
    page = found[:limit]
    touched(request, *dict.fromkeys(d["referral_id"] for d in page))
    return DeadlinePage(items=[DeadlineOut.model_validate(d) for d in page],
                        next_cursor=encode_cursor(DEADLINE_CURSOR, page[-1]["due_date"], page[-1]["deadline_key"])
                        if len(found) > limit else None, restricted_omitted=omitted)
