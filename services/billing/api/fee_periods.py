"""/v1/fee-periods: finance closes a period of a scheme (calendar months by default); the close makes one
invoice per council and contract. Closing is idempotent (a closed period answers again) and safe from two
replicas at once (the scheme's row lock): one set of invoices, numbered without gaps."""
from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request

from libs.common.http import IdempotencyKey, Written, write
from libs.common.pagination import Page

from .. import service
from ..schemas import CloseIn, FeePeriodOut, InvoiceSummary, Money
from .common import FinanceWriter, Reader, now, today

router = APIRouter(prefix="/v1/fee-periods", tags=["fee periods"])


def period_out(view: dict) -> FeePeriodOut:
    invoices = view.get("invoices")
    return FeePeriodOut(**{k: view[k] for k in ("id", "scheme", "period_start", "period_end", "closed_at",
                                                "closed_by", "unpriced")},
                        invoices=None if invoices is None else [invoice_summary(i) for i in invoices])


def invoice_summary(row: dict) -> InvoiceSummary:
    return InvoiceSummary(**{k: row[k] for k in ("id", "number", "kind", "la_code", "contract_id", "fee_period_id",
                                                 "period_start", "period_end", "issued_at")},
                          total=Money.of(row["total_pence"]))


@router.post("/close", response_model=FeePeriodOut, summary="Close a fee period (finance)")
async def close(body: CloseIn, request: Request, principal: FinanceWriter, idempotency_key: IdempotencyKey = None):
    """Periods of a scheme close in order, each after its last day. Changes learnt after an earlier close
    (a back-dated phase change, a corrected end date, a new schedule) become adjustment lines referring to
    the lines they correct; a council owed money overall gets a credit note."""
    async def op(uow) -> Written:
        period_id = await service.close_period(uow, principal, scheme=body.scheme, period_start=body.period_start,
                                               today=today(), now=now())
        return Written(period_out(await service.period_view(uow.session, principal, period_id)))
    return await write(request, principal, op, key=idempotency_key, body=body)


class FeePeriodPage(Page[FeePeriodOut]):
    pass


@router.get("", response_model=FeePeriodPage, summary="Closed fee periods")
async def list_periods(request: Request, principal: Reader,
                       scheme: Annotated[str | None, Query(max_length=40)] = None) -> FeePeriodPage:
    """One page `{items, next_cursor}` (every list's shape); all periods in it, `next_cursor` null."""
    async with request.app.state.runtime.db.reader() as session:
        return FeePeriodPage(items=[period_out(v) for v in await service.periods(session, principal, scheme)],
                             next_cursor=None)


@router.get("/{period_id}", response_model=FeePeriodOut, summary="A closed period and its invoices (a council: its own)")
async def get_period(period_id: uuid.UUID, request: Request, principal: Reader) -> FeePeriodOut:
    async with request.app.state.runtime.db.reader() as session:
        return period_out(await service.period_view(session, principal, str(period_id)))
