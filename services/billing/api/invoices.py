"""/v1/invoices: invoices and credit notes with a line per placement per rate segment (the council's child
reference, never a name). A council reads only its own (another council's invoice answers 404). Each
downloads as JSON, CSV and PDF. A closed invoice never changes."""
from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.encoders import jsonable_encoder

from libs.common.audit import touched
from libs.common.pagination import Page

from .. import service
from ..documents import invoice_csv, invoice_pdf
from ..schemas import InvoiceLineOut, InvoiceOut, InvoiceSummary, Money
from .common import Reader
from .fee_periods import invoice_summary

router = APIRouter(prefix="/v1/invoices", tags=["invoices"])


def invoice_out(view: dict) -> InvoiceOut:
    lines = [InvoiceLineOut(**{k: line[k] for k in ("line_no", "id", "kind", "description", "placement_id",
                                                    "child_ref", "home_id", "from_date", "to_date", "days",
                                                    "daily_rate", "refers_to", "stream", "rate_key",
                                                    "intervention_id", "child_withheld", "restriction")},
                            weekly_fee=Money.of(line["weekly_pence"]), amount=Money.of(line["amount_pence"]))
             for line in view["lines"]]
    return InvoiceOut(**invoice_summary(view).model_dump(), lines=lines)


class InvoicePage(Page[InvoiceSummary]):
    pass


@router.get("", response_model=InvoicePage, summary="Invoices (a council: its own)")
async def list_invoices(request: Request, principal: Reader,
                        fee_period_id: uuid.UUID | None = None, contract_id: uuid.UUID | None = None,
                        la_code: Annotated[str | None, Query(pattern=r"^E\d{8}$")] = None) -> InvoicePage:
    """One page `{items, next_cursor}` (every list's shape); all invoices in it, `next_cursor` null."""
    async with request.app.state.runtime.db.reader() as session:
        rows = await service.invoices(session, principal, fee_period_id=fee_period_id and str(fee_period_id),
                                      contract_id=contract_id and str(contract_id), la_code=la_code)
    return InvoicePage(items=[invoice_summary(r) for r in rows], next_cursor=None)


async def _view(request: Request, principal, invoice_id: uuid.UUID) -> dict:
    async with request.app.state.runtime.db.session() as session:
        view = await service.invoice_view(session, principal, str(invoice_id))
        contract = await service.contract_view(session, principal, view["contract_id"])
    view["contract_name"] = contract["name"]
    touched(request, *sorted({line["placement_id"] for line in view["lines"] if line["placement_id"]}))
    return view


@router.get("/{invoice_id}", response_model=InvoiceOut, summary="An invoice with its lines")
async def get_invoice(invoice_id: uuid.UUID, request: Request, principal: Reader) -> InvoiceOut:
    return invoice_out(await _view(request, principal, invoice_id))


@router.get("/{invoice_id}/download/{fmt}", summary="Download an invoice as JSON, CSV or PDF",
            responses={200: {"content": {"application/json": {}, "text/csv": {}, "application/pdf": {}}}})
async def download(invoice_id: uuid.UUID, fmt: Literal["json", "csv", "pdf"], request: Request,
                   principal: Reader) -> Response:
    view = await _view(request, principal, invoice_id)
    name = view["number"]
    disposition = {"Content-Disposition": f'attachment; filename="{name}.{fmt}"'}
    if fmt == "csv":
        return Response(invoice_csv(view), media_type="text/csv; charset=utf-8", headers=disposition)
    if fmt == "pdf":
        return Response(invoice_pdf(view, view["contract_name"]), media_type="application/pdf", headers=disposition)
    import json
    return Response(json.dumps(jsonable_encoder(invoice_out(view)), indent=2), media_type="application/json",
                    headers=disposition)
