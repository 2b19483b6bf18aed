"""/v1/placements/{id}/tasks: the Phase 1 foundation tasks, their due dates, owners and state."""
from __future__ import annotations

import uuid
from datetime import date

from fastapi import APIRouter, Request

from libs.common.audit import touched
from libs.common.errors import NotFound
from libs.common.http import IdempotencyKey, Written, write
from libs.common.web import runtime_of

from .. import repository as repo
from .. import service
from ..domain.deadlines import deadline_state
from ..domain.schedule import TASKS_BY_CODE
from ..schemas import TaskCode, TaskDone, TaskOut, TaskPage
from .common import MISSING, WRITE_RESPONSES, PlacementReader, Writer, today

router = APIRouter(tags=["placements"])


def _task_out(t: dict, on: date) -> TaskOut:
    state = deadline_state(t["due_date"], t["done_on"] is not None, on)
    return TaskOut(code=t["code"], label=TASKS_BY_CODE[t["code"]].label, due_date=t["due_date"], owner=t["owner"],
                   done_on=t["done_on"], done_by=t["done_by"], state=state)


@router.get("/v1/placements/{placement_id}/tasks", response_model=TaskPage, responses=MISSING,
            summary="Phase 1 foundation tasks, their due dates and owners")
async def list_tasks(placement_id: uuid.UUID, request: Request, principal: PlacementReader) -> TaskPage:
    async with runtime_of(request).db.reader() as session:
        row = await repo.get_placement(session, principal, str(placement_id))
        if row is None:
            raise NotFound("placement")
        found = await repo.tasks_of(session, row["id"])
    touched(request, row["referral_id"])
    return TaskPage(items=[_task_out(t, today()) for t in found], next_cursor=None)


@router.post("/v1/placements/{placement_id}/tasks/{code}/complete", response_model=TaskOut,
             responses=WRITE_RESPONSES, summary="Mark a foundation task done")
async def complete_task(placement_id: uuid.UUID, code: TaskCode, body: TaskDone, request: Request, principal: Writer,
                        idempotency_key: IdempotencyKey = None):
    async def op(uow) -> Written:
        task, placement = await service.complete_task(uow, principal, str(placement_id), code, done_on=body.done_on,
                                                      owner=body.owner, today=today())
        return Written(_task_out(task, today()), [placement["referral_id"]])
    return await write(request, principal, op, key=idempotency_key, body=body)
