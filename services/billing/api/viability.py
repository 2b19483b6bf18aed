"""/v1/viability: per home, occupancy by day, revenue by phase, the cost base (entered per month), the
break-even occupancy; and the ramp-up projection of a new home (1/N of its beds in month 1, 2/N in month 2...)."""
from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from libs.common.errors import field_problem
from libs.common.http import IdempotencyKey, Written, write

from .. import service
from ..schemas import CostIn, Money
from .common import FinanceWriter, HubReader, now, pence

router = APIRouter(prefix="/v1/viability", tags=["viability"])
MonthText = Annotated[str, Path(pattern=r"^\d{4}-\d{2}$", examples=["2025-04"])]


def _month(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text + "-01")
    except ValueError:
        raise field_problem(field, "month", "a month such as 2025-04") from None


@router.put("/homes/{home_id}/costs/{month}", summary="Enter a home's cost for a month (by category)")
async def set_cost(home_id: uuid.UUID, month: MonthText, body: CostIn, request: Request, principal: FinanceWriter,
                   idempotency_key: IdempotencyKey = None):
    amount = pence(body.amount, "body.amount")
    first = _month(month, "path.month")

    async def op(uow) -> Written:
        saved = await service.set_home_cost(uow, home_id=str(home_id), month=first, category=body.category,
                                            amount=amount, now=now())
        return Written({**saved, "amount": Money.of(saved.pop("amount_pence"))})
    return await write(request, principal, op, key=idempotency_key, body=body)


@router.get("/homes/{home_id}", summary="A home's viability month by month")
async def home_viability(home_id: uuid.UUID, request: Request, principal: HubReader,
                         first: Annotated[str, Query(alias="from", pattern=r"^\d{4}-\d{2}$")],
                         last: Annotated[str, Query(alias="to", pattern=r"^\d{4}-\d{2}$")],
                         places: Annotated[int, Query(ge=1, le=100)] = 3) -> dict:
    """Revenue values each child's days at their contract's schedule (block contracts: at the schedule's
    spot rates); the break-even occupancy is the share of bed-days that, at the month's revenue per occupied
    bed-day, covers the month's cost."""
    a, b = _month(first, "query.from"), _month(last, "query.to")
    if b < a or (b.year - a.year) * 12 + b.month - a.month > 60:
        raise field_problem("query.to", "range_1_to_60_months", "from 1 to 60 months, not before `from`")
    async with request.app.state.runtime.db.reader() as session:
        return await service.viability(session, home_id=str(home_id), first_month=a, last_month=b, places=places)


@router.get("/ramp-up", summary="A new home's months to break-even under a ramp-up")
async def ramp(principal: HubReader, places: Annotated[int, Query(ge=1, le=100)],
               phase_1_weekly: Annotated[str, Query(examples=["5200.00"])],
               phase_2_weekly: Annotated[str, Query(examples=["3789.00"])],
               monthly_cost: Annotated[str, Query(examples=["38000.00"])],
               first_month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$")],
               months: Annotated[int, Query(ge=1, le=60)] = 12) -> dict:
    from ..domain.money import parse_pence
    return service.ramp_up_projection(
        places=places, phase_1_weekly=parse_pence(phase_1_weekly, "GBP", "query.phase_1_weekly"),
        phase_2_weekly=parse_pence(phase_2_weekly, "GBP", "query.phase_2_weekly"),
        monthly_cost=parse_pence(monthly_cost, "GBP", "query.monthly_cost"),
        first_month=_month(first_month, "query.first_month"), months=months)
