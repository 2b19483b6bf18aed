"""/v1/contracts: a contract per council with its form, fee schedules with effective dates (no overlaps),
add-ons with their own dates, and the open-book report. Finance writes; a council reads its own (another
council's contract answers 404). A contract's ETag is its version; adding a schedule takes If-Match when sent."""
from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from libs.common.http import IdempotencyKey, IfMatch, Written, etag, write
from libs.common.pagination import Page

from .. import service
from ..domain.periods import scheme_key
from ..schemas import AddOnIn, AddOnOut, ContractIn, ContractOut, Money, ScheduleIn, ScheduleOut
from .common import FinanceWriter, Reader, basis_points, now, pence

router = APIRouter(prefix="/v1/contracts", tags=["contracts"])


def contract_out(view: dict) -> ContractOut:
    block = None if view["form"] != "block" else {"beds": view["block_beds"],
                                                  "weekly_price": Money.of(view["block_weekly_pence"])}
    ob = view["open_book"]
    book = None if ob is None else {"margin_percent": f"{ob['margin_bp'] / 100:g}",
                                    "annual_target": Money.of(ob["annual_target_pence"]),
                                    "council_share_percent": ob["council_share_bp"] // 100, "homes": ob["homes"]}
    retainer = None if not view.get("retainer_interventions") else {
        "interventions": view["retainer_interventions"], "yearly_fee": Money.of(view["retainer_yearly_pence"])}
    return ContractOut(
        **{k: view[k] for k in ("id", "la_code", "name", "form", "start_date", "end_date", "scheme",
                                "charge_arrival_day", "charge_leaving_day", "version")},
        block=block, open_book=book, outreach_retainer=retainer,
        fee_schedules=[ScheduleOut(id=s["id"], effective_from=s["effective_from"], effective_to=s["effective_to"],
                                   phase_1_weekly=Money.of(s["phase_1_weekly_pence"]),
                                   phase_2_weekly=Money.of(s["phase_2_weekly_pence"]),
                                   blended_weekly=Money.of(s["blended_weekly_pence"]),
                                   outreach_weekly=Money.of(s.get("outreach_weekly_pence")),
                                   outreach_fixed=Money.of(s.get("outreach_fixed_pence")))
                       for s in view["fee_schedules"]],
        add_ons=[AddOnOut(id=a["id"], placement_id=a["placement_id"], kind=a["kind"],
                          weekly_fee=Money.of(a["weekly_pence"]), start_date=a["start_date"], end_date=a["end_date"])
                 for a in view["add_ons"]])


def _written(view: dict, status_code: int = 200, **headers) -> Written:
    return Written(contract_out(view), status_code=status_code, headers={"ETag": etag(view["version"]), **headers})


@router.post("", status_code=201, response_model=ContractOut, summary="Make a contract with a council")
async def create_contract(body: ContractIn, request: Request, principal: FinanceWriter,
                          idempotency_key: IdempotencyKey = None):
    """Spot, block (beds, term and weekly block price; use above the block at the schedule's spot rates),
    blended (one weekly fee for the stay) or open-book cost-plus (margin, annual target, gain share). Any form may
    carry a yearly outreach retainer (`outreach_retainer`: N interventions a contract year at a yearly fee, in 12
    monthly parts; fixed-fee interventions beyond N at the schedule's `outreach_fixed`).
    Calendar-month fee periods unless `period.kind` is four_weekly (with an anchor)."""
    values = {
        "la_code": body.la_code, "name": body.name, "form": body.form, "start_date": body.start_date,
        "end_date": body.end_date, "scheme": scheme_key(body.period.kind, body.period.anchor),
        "charge_arrival_day": body.charge_arrival_day, "charge_leaving_day": body.charge_leaving_day,
        "block_beds": body.block.beds if body.block else 0,
        "block_weekly_pence": pence(body.block.weekly_price, "body.block.weekly_price") if body.block else 0,
        "open_book": None if body.open_book is None else {
            "margin_bp": basis_points(body.open_book.margin_percent, "body.open_book.margin_percent"),
            "annual_target_pence": pence(body.open_book.annual_target, "body.open_book.annual_target"),
            "council_share_bp": body.open_book.council_share_percent * 100,
            "homes": [str(h) for h in body.open_book.homes]},
        "retainer_interventions": body.outreach_retainer.interventions if body.outreach_retainer else None,
        "retainer_yearly_pence": pence(body.outreach_retainer.yearly_fee, "body.outreach_retainer.yearly_fee")
        if body.outreach_retainer else None}

    async def op(uow) -> Written:
        view = await service.create_contract(uow, principal, values=values, now=now())
        return _written(view, 201, Location=f"/v1/contracts/{view['id']}")
    return await write(request, principal, op, key=idempotency_key, body=body)


class ContractPage(Page[ContractOut]):
    pass


@router.get("", response_model=ContractPage, summary="Contracts (a council: its own)")
async def list_contracts(request: Request, principal: Reader,
                         la_code: Annotated[str | None, Query(pattern=r"^E\d{8}$")] = None) -> ContractPage:
    """One page `{items, next_cursor}` (every list's shape); all contracts in it, `next_cursor` null."""
    async with request.app.state.runtime.db.reader() as session:
        return ContractPage(items=[contract_out(v) for v in await service.contracts(session, principal, la_code)],
                            next_cursor=None)


@router.get("/{contract_id}", response_model=ContractOut, summary="A contract with its schedules and add-ons")
async def get_contract(contract_id: uuid.UUID, request: Request, response: Response,
                       principal: Reader) -> ContractOut:
    async with request.app.state.runtime.db.reader() as session:
        view = await service.contract_view(session, principal, str(contract_id))
    response.headers["ETag"] = etag(view["version"])
    return contract_out(view)


@router.post("/{contract_id}/fee-schedules", status_code=201, response_model=ContractOut,
             summary="Add a fee schedule from an effective date (no overlap with another)")
async def add_schedule(contract_id: uuid.UUID, body: ScheduleIn, request: Request, principal: FinanceWriter,
                       if_match: IfMatch = None, idempotency_key: IdempotencyKey = None):
    """A price change part-way through a stay is charged from its date. To change a running schedule, the
    open-ended one needs an end first: overlapping schedules are refused (422 body.effective_from no_overlap).
    A schedule back-dated into a closed period is charged by adjustment at the next close."""
    schedule = {"effective_from": body.effective_from, "effective_to": body.effective_to,
                "phase_1_weekly_pence": pence(body.phase_1_weekly, "body.phase_1_weekly"),
                "phase_2_weekly_pence": pence(body.phase_2_weekly, "body.phase_2_weekly"),
                "blended_weekly_pence": pence(body.blended_weekly, "body.blended_weekly"),
                "outreach_weekly_pence": pence(body.outreach_weekly, "body.outreach_weekly"),
                "outreach_fixed_pence": pence(body.outreach_fixed, "body.outreach_fixed")}

    async def op(uow) -> Written:
        view = await service.add_schedule(uow, principal, str(contract_id), schedule=schedule, precondition=if_match,
                                          now=now())
        return _written(view, 201)
    return await write(request, principal, op, key=idempotency_key, body=body)


@router.post("/{contract_id}/add-ons", status_code=201, response_model=ContractOut,
             summary="Add an add-on for a placement (1:1 or 2:1 staffing uplift, outreach support)")
async def add_add_on(contract_id: uuid.UUID, body: AddOnIn, request: Request, principal: FinanceWriter,
                     idempotency_key: IdempotencyKey = None):
    add_on = {"placement_id": str(body.placement_id), "kind": body.kind,
              "weekly_pence": pence(body.weekly_fee, "body.weekly_fee"), "start_date": body.start_date,
              "end_date": body.end_date}

    async def op(uow) -> Written:
        view = await service.add_add_on(uow, principal, str(contract_id), add_on=add_on, now=now())
        return _written(view, 201)
    return await write(request, principal, op, key=idempotency_key, body=body)


@router.get("/{contract_id}/open-book", summary="Open-book report for a year: cost, margin, gain share")
async def open_book(contract_id: uuid.UUID, request: Request, principal: Reader,
                    year: Annotated[int, Query(ge=2000, le=2100)]) -> dict:
    async with request.app.state.runtime.db.reader() as session:
        report = await service.open_book(session, principal, str(contract_id), year)
    money = {k: Money.of(report[k + "_pence"]) for k in ("cost", "margin", "price", "target", "savings",
                                                          "council_share", "innovation_fund")}
    return {"contract_id": str(contract_id), "year": year, **money,
            "cost_lines": [{"home_id": c["home_id"], "month": c["month"], "category": c["category"],
                            "amount": Money.of(c["amount_pence"])} for c in report["cost_lines"]]}
