"""Billing's operations. Each change takes the caller's unit of work, changes state through the repository
and emits its events into the same transaction; none commits (libs.common.http.write does for a route, the
consumer for an event). Reads take a session. HTTP stays in api/, SQL in repository.py, rules in domain/."""
from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta

from libs.common.auth import Principal
from libs.common.events.catalogue import FeePeriodClosed, InvoiceIssued, InvoiceLine, PlacementFeeApplied
from libs.common.events.outbox import UnitOfWork
from libs.common.errors import Missing, Stale
from libs.common.restrictions import marker, withhold

from . import repository as repo
from .domain.applied import Applied, applied_fee
from .domain.charging import Stay, add_on_stream, block_days, block_stream, fee_stream
from .domain.closing import Billed, Settlement, settle
from .domain.contracts import (BLOCK, AddOn, ContractError, FeeSchedule, OpenBook, Terms, check_add_on,
                               check_schedule, check_terms, contract_for, open_book_year)
from .domain.money import daily_rate, format_pence
from .domain.outreach import (FIXED, RETAINER, WEEKLY, Outreach, line_span, outreach_contract_for, outreach_stream,
                              retainer_covered, retainer_stream)
from .domain.periods import PeriodError, period_starting
from .domain.viability import monthly, occupancy_by_day, ramp_up

ONE_DAY = timedelta(days=1)
RATE_LABELS = {"phase_1": "Phase 1 enhanced assessment fee", "phase_2": "Phase 2 standard therapeutic fee",
               "blended": "Blended fee", "block": "Block contract", "add_on:one_to_one": "1:1 staffing uplift",
               "add_on:two_to_one": "2:1 staffing uplift", "add_on:outreach": "Outreach support",
               WEEKLY: "Weekly outreach support", FIXED: "Fixed-fee outreach intervention",
               RETAINER: "Outreach retainer (yearly fee, monthly part)"}






# --- rows to domain -------------------------------------------------------------------------------------
def terms_of(row: dict) -> Terms:
    ob = row["open_book"]
    book = None if ob is None else OpenBook(ob["margin_bp"], ob["annual_target_pence"], ob["council_share_bp"],
                                            tuple(ob.get("homes", ())))
    return Terms(id=row["id"], la_code=row["la_code"], form=row["form"], start=row["start_date"],
                 end=row["end_date"], scheme=row["scheme"], charge_arrival_day=row["charge_arrival_day"],
                 charge_leaving_day=row["charge_leaving_day"], block_beds=row["block_beds"],
                 block_weekly_pence=row["block_weekly_pence"], open_book=book,
                 retainer_interventions=row.get("retainer_interventions") or 0,
                 retainer_yearly_pence=row.get("retainer_yearly_pence") or 0)


def schedule_of(row: dict) -> FeeSchedule:
    return FeeSchedule(row["id"], row["effective_from"], row["effective_to"], row["phase_1_weekly_pence"],
                       row["phase_2_weekly_pence"], row["blended_weekly_pence"], row.get("outreach_weekly_pence"),
                       row.get("outreach_fixed_pence"))


def outreach_of(row: dict) -> Outreach:
    return Outreach(row["id"], row["la_code"], row["basis"], row["planned_weeks"], row["start_date"], row["end_date"])


def add_on_of(row: dict) -> AddOn:
    return AddOn(row["id"], row["placement_id"], row["kind"], row["weekly_pence"], row["start_date"], row["end_date"])


def stay_of(row: dict) -> Stay:
    return Stay(row["arrival_date"], row["end_date"],
                tuple((date.fromisoformat(d), phase) for d, phase in row["transitions"]))


# --- the weekly fee that applies (placement.fee_applied) --------------------------------------------------
async def _note(s, referral_id: str, la_code: str, now: datetime, **values) -> None:
    """The referral's notice row, made or changed (its fee is worked out by refresh_fees)."""
    row = await repo.fee_notice(s, referral_id)
    if row is None:
        await repo.insert_fee_notice(s, referral_id=referral_id, la_code=la_code, sequence=0, updated_at=now,
                                     **{"start_date": values.pop("planned_start_date", None), **values})
    else:
        values.pop("planned_start_date", None)
        await repo.update_fee_notice(s, referral_id, **values, updated_at=now)


async def refresh_fees(uow: UnitOfWork, *, reason: str, today: date, now: datetime,
                       referral_ids: list[str] | None = None, la_codes: list[str] | None = None,
                       sweep: bool = False) -> int:
    """Work out the weekly fee that applies today for these children (or these councils', or every running
    stay on a sweep) and emit placement.fee_applied for each whose fee differs from the one last told.
    Answers how many were emitted."""
    s = uow.session
    notices = await repo.fee_notices_for(s, referral_ids=referral_ids, la_codes=la_codes,
                                         running_on=today if sweep else None)
    if not notices:
        return 0
    every = [terms_of(r) for r in await repo.all_contracts(s)]
    councils = {n["la_code"] for n in notices}
    scheds = defaultdict(list)
    for row in await repo.schedules_of(s, [c.id for c in every if c.la_code in councils]):
        scheds[row["contract_id"]].append(schedule_of(row))
    stays = await repo.placements_of_referrals(s, [n["referral_id"] for n in notices])
    emitted = 0
    for n in notices:
        p = stays.get(n["referral_id"])
        stay = stay_of(p) if p else Stay(n["start_date"])
        start = stay.arrival or n["start_date"]
        now_applies = applied_fee(n["la_code"], start, stay, every, scheds, today)
        told = None if n["basis"] is None else Applied(n["contract_id"], n["weekly_pence"], n["basis"],
                                                       n["effective_date"], today)
        if now_applies.same_fee(told):
            continue
        sequence = n["sequence"] + 1
        await repo.update_fee_notice(s, n["referral_id"], contract_id=now_applies.contract_id,
                                     weekly_pence=now_applies.weekly_pence, basis=now_applies.basis,
                                     effective_date=now_applies.effective_date, sequence=sequence, updated_at=now)
        weekly = now_applies.weekly_pence
        await uow.emit(PlacementFeeApplied(
            referral_id=n["referral_id"], admission_id=n["admission_id"], placement_id=n["placement_id"],
            home_id=n["home_id"], contract_id=now_applies.contract_id, weekly_fee_pence=weekly,
            weekly_fee=None if weekly is None else format_pence(weekly), basis=now_applies.basis,
            effective_date=now_applies.effective_date, as_of=now_applies.as_of, reason=reason, sequence=sequence),
            subject_id=n["referral_id"], la_code=n["la_code"])
        emitted += 1
    return emitted


# --- what the consumers do ------------------------------------------------------------------------------
async def record_referral(uow: UnitOfWork, *, referral_id: str, la_code: str, child_ref: str) -> None:
    await repo.upsert_referral(uow.session, referral_id, la_code, child_ref)


async def record_admission(uow: UnitOfWork, *, admission_id: str, referral_id: str, home_id: str,
                           planned_start_date: date, fee_basis: str | None, la_code: str | None = None,
                           today: date | None = None, now: datetime | None = None) -> None:
    await repo.insert_admission(uow.session, admission_id=admission_id, referral_id=referral_id, home_id=home_id,
                                planned_start_date=planned_start_date, fee_basis=fee_basis)
    placed = await repo.get_placement_of_referral(uow.session, referral_id)
    if placed is not None and placed["fee_basis"] is None and fee_basis is not None:
        # the child's placement.started (another topic) arrived first: its fee basis is known only now
        await repo.update_placement(uow.session, placed["id"], fee_basis=fee_basis)
    if la_code is None or now is None:
        return
    extra = {} if placed else {"home_id": home_id, "start_date": planned_start_date}
    await _note(uow.session, referral_id, la_code, now, admission_id=admission_id,
                planned_start_date=planned_start_date, **extra)
    await refresh_fees(uow, reason="admission_accepted", today=today or now.date(), now=now,
                       referral_ids=[referral_id])


async def placement_started(uow: UnitOfWork, *, placement_id: str, referral_id: str, la_code: str, home_id: str,
                            start_date: date, now: datetime) -> None:
    s = uow.session
    row = await repo.get_placement(s, placement_id, for_update=True)
    if row is None:
        await repo.insert_placement(s, id=placement_id, referral_id=referral_id, la_code=la_code, home_id=home_id,
                                    fee_basis=await repo.fee_basis_of(s, referral_id), arrival_date=start_date,
                                    transitions=[[start_date.isoformat(), "phase_1"]], updated_at=now)
    else:
        transitions = [t for t in row["transitions"] if t[1] != "phase_1"] + [[start_date.isoformat(), "phase_1"]]
        await repo.update_placement(s, placement_id, arrival_date=start_date, transitions=sorted(transitions),
                                    updated_at=now)
    await repo.add_change(s, now, placement_id=placement_id)
    await _note(s, referral_id, la_code, now, planned_start_date=start_date, placement_id=placement_id,
                home_id=home_id, start_date=start_date,
                admission_id=await repo.latest_admission_of(s, referral_id))
    await refresh_fees(uow, reason="placement_started", today=now.date(), now=now, referral_ids=[referral_id])


async def phase_transitioned(uow: UnitOfWork, *, placement_id: str, from_phase: str | None, to_phase: str,
                             effective_date: date, phase_ends_on: date | None, now: datetime) -> None:
    """A move to a phase from its effective date (a back-dated one included; the next close adjusts what a
    closed period charged). A Phase 1 extension (phase_1 -> phase_1) keeps the Phase 1 rate: only its new
    last day is kept."""
    s = uow.session
    row = await repo.get_placement(s, placement_id, for_update=True)
    if row is None:
        raise ValueError(f"phase.transitioned for placement {placement_id} before its placement.started")
    if from_phase == to_phase == "phase_1":
        await repo.update_placement(s, placement_id, phase_ends_on=phase_ends_on, updated_at=now)
        return
    transitions = [t for t in row["transitions"] if t[1] != to_phase] + [[effective_date.isoformat(), to_phase]]
    await repo.update_placement(s, placement_id, transitions=sorted(transitions), updated_at=now,
                                **({"phase_ends_on": phase_ends_on} if to_phase == "phase_1" else {}))
    await repo.add_change(s, now, placement_id=placement_id)
    await refresh_fees(uow, reason="phase_transitioned", today=now.date(), now=now,
                       referral_ids=[row["referral_id"]])


async def placement_ended(uow: UnitOfWork, *, placement_id: str, end_date: date, now: datetime) -> None:
    s = uow.session
    row = await repo.get_placement(s, placement_id, for_update=True)
    if row is None:
        raise ValueError(f"placement.ended for placement {placement_id} before its placement.started")
    await repo.update_placement(s, placement_id, end_date=end_date, updated_at=now)
    await repo.add_change(s, now, placement_id=placement_id)
    if await repo.fee_notice(s, row["referral_id"]) is not None:
        await repo.update_fee_notice(s, row["referral_id"], end_date=end_date, updated_at=now)
        await refresh_fees(uow, reason="placement_ended", today=now.date(), now=now,
                           referral_ids=[row["referral_id"]])


# --- outreach interventions (issue 16) ---------------------------------------------------------------------
async def record_intervention(uow: UnitOfWork, *, intervention_id: str, referral_id: str, la_code: str,
                              team_id: str | None, basis: str, planned_weeks: int, planned_start_date: date,
                              now: datetime) -> None:
    """From outreach.accepted or intervention.started, whichever comes first (they travel on different topics):
    the intervention with its basis; either again changes nothing."""
    s = uow.session
    if await repo.get_intervention(s, intervention_id) is None:
        await repo.insert_intervention(s, id=intervention_id, referral_id=referral_id, la_code=la_code,
                                       team_id=team_id, basis=basis, planned_weeks=planned_weeks,
                                       planned_start_date=planned_start_date, updated_at=now)


async def intervention_moved(uow: UnitOfWork, *, intervention_id: str, to_status: str, effective_date: date,
                             now: datetime) -> None:
    """To active: the start charged from. To closed: the end (a never-started intervention has no start and is
    never charged). The next close re-settles it."""
    s = uow.session
    row = await repo.get_intervention(s, intervention_id, for_update=True)
    if row is None:
        raise ValueError(f"intervention.status_changed for {intervention_id} before intervention.started")
    if to_status == "active":
        await repo.update_intervention(s, intervention_id, start_date=effective_date, updated_at=now)
    elif to_status == "closed":
        await repo.update_intervention(s, intervention_id, end_date=effective_date, updated_at=now)
    else:
        return
    await repo.add_change(s, now, intervention_id=intervention_id)


async def intervention_closed(uow: UnitOfWork, *, intervention_id: str, start_date: date, end_date: date,
                              outcome: str, now: datetime) -> None:
    s = uow.session
    row = await repo.get_intervention(s, intervention_id, for_update=True)
    if row is None:
        raise ValueError(f"intervention.closed for {intervention_id} before intervention.started")
    values = {"end_date": end_date}
    if row["start_date"] is None and outcome != "withdrawn":
        values["start_date"] = start_date
    await repo.update_intervention(s, intervention_id, **values, updated_at=now)
    await repo.add_change(s, now, intervention_id=intervention_id)


# --- contracts ------------------------------------------------------------------------------------------
async def create_contract(uow: UnitOfWork, principal: Principal, *, values: dict, now: datetime) -> dict:
    contract_id = str(uuid.uuid4())
    terms = Terms(id=contract_id, la_code=values["la_code"], form=values["form"], start=values["start_date"],
                  end=values["end_date"], scheme=values["scheme"], charge_arrival_day=values["charge_arrival_day"],
                  charge_leaving_day=values["charge_leaving_day"], block_beds=values["block_beds"],
                  block_weekly_pence=values["block_weekly_pence"],
                  open_book=None if values["open_book"] is None else OpenBook(**{
                      **values["open_book"], "homes": tuple(values["open_book"].get("homes", ()))}),
                  retainer_interventions=values.get("retainer_interventions") or 0,
                  retainer_yearly_pence=values.get("retainer_yearly_pence") or 0)
    check_terms(terms)
    await repo.insert_contract(uow.session, id=contract_id, version=1, created_at=now, **values)
    await repo.add_change(uow.session, now, contract_id=contract_id)
    await refresh_fees(uow, reason="contract_changed", today=now.date(), now=now, la_codes=[terms.la_code])
    return await contract_view(uow.session, principal, contract_id)


async def add_schedule(uow: UnitOfWork, principal: Principal, contract_id: str, *, schedule: dict, precondition,
                       now: datetime) -> dict:
    s = uow.session
    row = await repo.contract(s, principal, contract_id, for_update=True)  # schedules of a contract: one at a time
    if row is None:
        raise Missing("contract")
    if precondition is not None and not precondition(row["version"]):
        raise Stale(row["version"], "contract")
    new = FeeSchedule(str(uuid.uuid4()), schedule["effective_from"], schedule["effective_to"],
                      schedule["phase_1_weekly_pence"], schedule["phase_2_weekly_pence"],
                      schedule["blended_weekly_pence"], schedule.get("outreach_weekly_pence"),
                      schedule.get("outreach_fixed_pence"))
    check_schedule(terms_of(row), new, [schedule_of(r) for r in await repo.schedules_of(s, [contract_id])])
    await repo.insert_schedule(s, id=new.id, contract_id=contract_id, created_at=now, **schedule)
    await repo.bump_contract(s, contract_id, row["version"])
    await repo.add_change(s, now, contract_id=contract_id)
    await refresh_fees(uow, reason="contract_changed", today=now.date(), now=now, la_codes=[row["la_code"]])
    return await contract_view(s, principal, contract_id)


async def add_add_on(uow: UnitOfWork, principal: Principal, contract_id: str, *, add_on: dict, now: datetime) -> dict:
    s = uow.session
    row = await repo.contract(s, principal, contract_id, for_update=True)
    if row is None:
        raise Missing("contract")
    placement = await repo.get_placement(s, add_on["placement_id"])
    if placement is None or placement["la_code"] != row["la_code"]:
        raise ContractError("body.placement_id", "placement_of_council", "no placement of this contract's council")
    item = AddOn(str(uuid.uuid4()), add_on["placement_id"], add_on["kind"], add_on["weekly_pence"],
                 add_on["start_date"], add_on["end_date"])
    check_add_on(item)
    await repo.insert_add_on(s, id=item.id, contract_id=contract_id, created_at=now, **add_on)
    await repo.bump_contract(s, contract_id, row["version"])
    await repo.add_change(s, now, placement_id=item.placement_id)
    return await contract_view(s, principal, contract_id)


async def contract_view(session, principal: Principal, contract_id: str) -> dict:
    row = await repo.contract(session, principal, contract_id)
    if row is None:
        raise Missing("contract")
    return {**row, "fee_schedules": await repo.schedules_of(session, [contract_id]),
            "add_ons": await repo.add_ons_of(session, [contract_id])}


async def contracts(session, principal: Principal, la_code: str | None) -> list[dict]:
    rows = await repo.contracts_page(session, principal, la_code)
    schedules = defaultdict(list)
    for sch in await repo.schedules_of(session, [r["id"] for r in rows]):
        schedules[sch["contract_id"]].append(sch)
    adds = defaultdict(list)
    for a in await repo.add_ons_of(session, [r["id"] for r in rows]):
        adds[a["contract_id"]].append(a)
    return [{**r, "fee_schedules": schedules[r["id"]], "add_ons": adds[r["id"]]} for r in rows]


async def set_home_cost(uow: UnitOfWork, *, home_id: str, month: date, category: str, amount: int,
                        now: datetime) -> dict:
    if month.day != 1:
        raise PeriodError("path.month", "month", "a month such as 2025-04")
    await repo.set_home_cost(uow.session, home_id, month, category, amount, now)
    return {"home_id": home_id, "month": month, "category": category, "amount_pence": amount}


async def open_book(session, principal: Principal, contract_id: str, year: int) -> dict:
    row = await repo.contract(session, principal, contract_id)
    if row is None:
        raise Missing("contract")
    terms = terms_of(row)
    if terms.open_book is None:
        raise ContractError("path.contract_id", "open_book_contract", "this contract is not open-book")
    costs = await repo.home_costs_between(session, terms.open_book.homes, date(year, 1, 1), date(year, 12, 31))
    return open_book_year(terms.open_book, year, costs).__dict__


# --- closing a fee period -------------------------------------------------------------------------------
def _sequence(kind: str, la_code: str) -> str:
    return f"{'CN' if kind == 'credit_note' else 'INV'}-{la_code}"


def invoice_number(sequence: str, number: int) -> str:
    return f"{sequence}-{number:06d}"


def _billed(lines: list[dict]) -> dict[tuple, list[Billed]]:
    adjustments = defaultdict(int)
    for line in lines:
        if line["kind"] == "adjustment":
            adjustments[line["refers_to"]] += line["amount_pence"]
    out = defaultdict(list)
    for line in lines:
        if line["kind"] != "adjustment":
            if line.get("intervention_id"):
                key = (line["intervention_id"], "outreach")
            elif line["stream"] == "outreach":
                key = (line["contract_id"], RETAINER)
            else:
                key = (line["placement_id"] if line["stream"] != "block" else line["contract_id"], line["stream"])
            out[key].append(Billed(line["id"], line["from_date"], line["to_date"] + ONE_DAY,
                                   line["amount_pence"] + adjustments[line["id"]]))
    return out


def _describe(charges) -> str:
    return "; ".join(f"{RATE_LABELS.get(c.key, c.key)} {c.start} to {c.last_day}: {c.days} days at "
                     f"{format_pence(c.weekly)} a week = {format_pence(c.amount)}" for c in charges) or "no days charged"


def _lines(settlement: Settlement, stream: str, placement: dict | None) -> list[dict]:
    common = {"stream": stream, "placement_id": placement and placement["id"],
              "child_ref": placement and placement["child_ref"], "home_id": placement and placement["home_id"],
              "intervention_id": None}
    out = []
    for kind, charges in (("charge", settlement.charges), ("late", settlement.late)):
        for c in charges:
            out.append({**common, "kind": kind, "rate_key": c.key, "from_date": c.start, "to_date": c.last_day,
                        "days": c.days, "weekly_pence": c.weekly, "amount_pence": c.amount, "refers_to": None,
                        "description": RATE_LABELS.get(c.key, c.key) + (" (earlier days not invoiced before)"
                                                                        if kind == "late" else "")})
    for a in settlement.adjustments:
        uniform = len({(c.key, c.weekly) for c in a.now}) == 1
        out.append({**common, "kind": "adjustment", "rate_key": a.now[0].key if uniform and a.now else None,
                    "from_date": a.start, "to_date": a.end - ONE_DAY, "days": (a.end - a.start).days,
                    "weekly_pence": a.now[0].weekly if uniform and a.now else None, "amount_pence": a.amount,
                    "refers_to": a.refers_to, "description": "Recalculated: " + _describe(a.now)})
    return out


def _outreach_lines(settlement: Settlement, terms: Terms, o: Outreach | None, child_ref: str | None,
                    covered_no: int | None = None) -> list[dict]:
    """Lines of an intervention's outreach stream (o) or of the contract's retainer (o None): a weekly line shows
    its days and weekly rate; a fixed fee (or a covered intervention, at 0) its planned weeks; a retainer part
    its contract month."""
    common = {"stream": "outreach", "placement_id": None, "child_ref": child_ref, "home_id": None,
              "intervention_id": o.id if o else None}
    out = []
    for kind, charges in (("charge", settlement.charges), ("late", settlement.late)):
        for c in charges:
            first, end = line_span(c.key, c.start, outreach=o, terms=terms) or (c.start, c.end)
            label = RATE_LABELS[c.key]
            if o is not None and c.key == RETAINER:
                label = f"Outreach intervention covered by the yearly retainer ({covered_no} of " \
                        f"{terms.retainer_interventions} this contract year)"
            out.append({**common, "kind": kind, "rate_key": c.key, "from_date": first, "to_date": end - ONE_DAY,
                        "days": (end - first).days, "weekly_pence": c.weekly if c.key == WEEKLY else None,
                        "amount_pence": c.amount, "refers_to": None,
                        "description": label + (" (earlier days not invoiced before)" if kind == "late" else "")})
    for a in settlement.adjustments:
        keys = {c.key for c in a.now}
        key = keys.pop() if len(keys) == 1 else None
        weekly = a.now[0].weekly if key == WEEKLY and len({c.weekly for c in a.now}) == 1 else None
        out.append({**common, "kind": "adjustment", "rate_key": key, "from_date": a.start,
                    "to_date": a.end - ONE_DAY, "days": (a.end - a.start).days, "weekly_pence": weekly,
                    "amount_pence": a.amount, "refers_to": a.refers_to,
                    "description": "Recalculated: " + ("; ".join(f"{RATE_LABELS[c.key]} {format_pence(c.amount)}"
                                                                 for c in a.now) or "nothing charged")})
    return out


async def close_period(uow: UnitOfWork, principal: Principal, *, scheme: str, period_start: date, today: date,
                       now: datetime) -> str:
    """Close a fee period of a scheme: one invoice (or credit note) per council and contract, numbered
    without gaps per sequence. Closing a closed period answers it again; closes of a scheme run one at a
    time (the scheme row's lock), in order, never before the period has ended."""
    period = period_starting(scheme, period_start)
    if period.end >= today:
        raise PeriodError("body.period_start", "period_ended",
                          f"the period runs to {period.end}: it can be closed from {period.end + ONE_DAY}")
    s = uow.session
    lock = await repo.lock_scheme(s, scheme)
    existing = await repo.fee_period(s, scheme=scheme, start=period.start)
    if existing is not None:
        return existing["id"]
    last = lock["last_closed_end"]
    if last is not None and period.start != last + ONE_DAY:
        raise PeriodError("body.period_start", "closed_in_order",
                          f"periods of {scheme} are closed in order: the next to close starts {last + ONE_DAY}")
    period_id = str(uuid.uuid4())
    await repo.insert_fee_period(s, id=period_id, scheme=scheme, period_start=period.start, period_end=period.end,
                                 closed_at=now, closed_by=principal.client_id, unpriced=[])

    every = [terms_of(r) for r in await repo.all_contracts(s)]
    in_scheme = {c.id: c for c in every if c.scheme == scheme and c.start <= period.end}
    changes = await repo.pending_changes(s)
    changed_contracts = {c["contract_id"] for c in changes if c["contract_id"]}
    changed = {c["placement_id"] for c in changes if c["placement_id"]}
    councils = {c.la_code for c in in_scheme.values()}
    rows = await repo.placements_for_close(s, councils, period.start, period.end, changed) if councils else []
    by_council = defaultdict(list)
    for c in every:
        by_council[c.la_code].append(c)
    council_schedules = defaultdict(list)  # every contract of these councils: which buys beds, which outreach
    for row in await repo.schedules_of(s, [c.id for c in every if c.la_code in councils]):
        council_schedules[row["contract_id"]].append(schedule_of(row))
    assigned: dict[str, list[dict]] = defaultdict(list)
    settled_ids = []
    billed_before = {r["id"] for r in rows if r["billed_through"] is not None}
    for r in rows:
        c = contract_for(by_council[r["la_code"]], r["la_code"], r["arrival_date"], council_schedules)
        if c is None or c.id in in_scheme:
            settled_ids.append(r["id"])
        if c is not None and c.id in in_scheme:
            assigned[c.id].append(r)
    schedules = {cid: council_schedules[cid] for cid in in_scheme}
    adds = defaultdict(list)
    for row in await repo.add_ons_of(s, list(in_scheme)):
        adds[row["placement_id"]].append(add_on_of(row))

    dirty = set()
    for cid, prs in assigned.items():
        whole = cid in changed_contracts or (in_scheme[cid].form == BLOCK and any(p["id"] in changed for p in prs))
        for p in prs:
            if p["billed_through"] is not None and (whole or p["id"] in changed):
                dirty.add(p["id"])
    blocks = [cid for cid, c in in_scheme.items() if c.form == BLOCK]

    # outreach interventions (issue 16): each under its council's contract that buys outreach on its start day
    changed_interventions = {c["intervention_id"] for c in changes if c.get("intervention_id")}
    outreach_schedules = council_schedules
    retainers = [cid for cid, c in in_scheme.items() if c.has_retainer]
    outreach_rows = await repo.interventions_for_close(
        s, councils, period.start, period.end, changed_interventions,
        {in_scheme[cid].la_code for cid in retainers}) if councils else []
    outreach_assigned: dict[str, list[Outreach]] = defaultdict(list)
    outreach_settled, outreach_child = [], {}
    for r in outreach_rows:
        o = outreach_of(r)
        outreach_child[o.id] = (r["child_ref"], r["referral_id"], r["billed_through"])
        c = outreach_contract_for(by_council[r["la_code"]], outreach_schedules, r["la_code"], o.start)
        if c is None or c.id in in_scheme:
            outreach_settled.append(o.id)
        if c is not None and c.id in in_scheme:
            outreach_assigned[c.id].append(o)
    billed = _billed(await repo.billed_lines(
        s, dirty, blocks, [o.id for items in outreach_assigned.values() for o in items], retainers))

    unpriced, invoice_rows, line_rows, events = [], [], [], []
    end_excl = period.end_excl
    for cid, terms in sorted(in_scheme.items(), key=lambda kv: (kv[1].la_code, kv[1].start, kv[0])):
        lines: list[dict] = []
        prs = sorted(assigned.get(cid, []), key=lambda p: (p["arrival_date"], p["id"]))
        inside = block_days(terms, {p["id"]: stay_of(p) for p in prs}, end_excl) if terms.form == BLOCK else {}
        if terms.form == BLOCK:
            lines += _lines(settle(block_stream(terms, end_excl), billed.get((cid, "block"), []),
                                   period.start, end_excl), "block", None)
        for p in prs:
            stay = stay_of(p)
            fee, missing = fee_stream(stay, terms, schedules[cid], end_excl, inside.get(p["id"], ()))
            if missing:
                unpriced.append({"placement_id": p["id"], "contract_id": cid, "days": missing})
            streams = [("fee", fee)] + [(f"add_on:{a.id}", add_on_stream(a, stay, terms, end_excl))
                                        for a in adds.get(p["id"], ())]
            fresh = p["billed_through"] is None or p["id"] in dirty
            for key, stream in streams:
                if fresh:
                    result = settle(stream, billed.get((p["id"], key), []), period.start, end_excl)
                else:
                    result = Settlement(stream.charges(period.start, end_excl), [], [])
                lines += _lines(result, key, p)
        assigned_outreach = sorted(outreach_assigned.get(cid, []), key=lambda o: (o.start, o.id))
        covered = retainer_covered(terms, assigned_outreach)
        for o in assigned_outreach:
            stream, missing = outreach_stream(o, terms, outreach_schedules[cid], end_excl, covered=o.id in covered)
            if missing:
                unpriced.append({"intervention_id": o.id, "contract_id": cid, "days": missing})
            result = settle(stream, billed.get((o.id, "outreach"), []), period.start, end_excl)
            lines += _outreach_lines(result, terms, o, outreach_child[o.id][0], covered.get(o.id))
        if terms.has_retainer:
            result = settle(retainer_stream(terms, end_excl), billed.get((cid, RETAINER), []), period.start, end_excl)
            lines += _outreach_lines(result, terms, None, None)
        if not lines:
            continue
        total = sum(line["amount_pence"] for line in lines)
        kind = "credit_note" if total < 0 else "invoice"
        invoice_id = str(uuid.uuid4())
        invoice_rows.append(dict(id=invoice_id, sequence=_sequence(kind, terms.la_code), number=None, kind=kind,
                                 fee_period_id=period_id, contract_id=cid, la_code=terms.la_code,
                                 period_start=period.start, period_end=period.end, total_pence=total, issued_at=now))
        for n, line in enumerate(lines, start=1):
            line_rows.append({**line, "id": str(uuid.uuid4()), "invoice_id": invoice_id, "line_no": n})
    wanted = defaultdict(int)
    for row in invoice_rows:
        wanted[row["sequence"]] += 1
    following = await repo.take_numbers(s, wanted)
    referral_of = {r["id"]: r["referral_id"] for r in rows}
    referral_of.update({iid: child[1] for iid, child in outreach_child.items()})
    told = defaultdict(list)  # the event tells each line: codes, ids, dates and numbers (no child_ref, no text)
    for line in line_rows:
        pid, iid = line["placement_id"], line["intervention_id"]
        told[line["invoice_id"]].append(InvoiceLine(
            line_id=line["id"], line_no=line["line_no"], kind=line["kind"], stream=line["stream"],
            rate_key=line["rate_key"], referral_id=referral_of.get(pid or iid) if pid or iid else None,
            placement_id=pid, from_date=line["from_date"], to_date=line["to_date"], days=line["days"],
            weekly_pence=line["weekly_pence"], amount_pence=line["amount_pence"], adjusts_line_id=line["refers_to"],
            intervention_id=iid))
    for row in invoice_rows:  # numbered in the order the invoices were made (council, contract start, id)
        row["number"] = following[row["sequence"]]
        following[row["sequence"]] += 1
        events.append(InvoiceIssued(invoice_id=row["id"], fee_period_id=period_id, contract_id=row["contract_id"],
                                    total_pence=row["total_pence"], number=invoice_number(row["sequence"], row["number"]),
                                    kind=row["kind"], period_start=period.start, period_end=period.end,
                                    total=format_pence(row["total_pence"]), lines=told[row["id"]]))
    await repo.insert_invoices(s, invoice_rows)
    await repo.insert_lines(s, line_rows)
    await repo.mark_billed(s, [pid for pid in settled_ids if pid not in billed_before], period.end)
    await repo.mark_interventions_billed(s, [o.id for items in outreach_assigned.values() for o in items
                                             if outreach_child[o.id][2] is None], period.end)
    settled = set(settled_ids)
    outreach_done = set(outreach_settled)
    await repo.forget_changes(s, [c["seq"] for c in changes if c["placement_id"] in settled
                                  or c["contract_id"] in in_scheme or c.get("intervention_id") in outreach_done])
    await repo.set_scheme(s, scheme, last_closed_end=period.end, first_start=lock["first_start"] or period.start)
    await _record_unpriced(s, period_id, unpriced)
    await uow.emit_many([(event, row["id"], row["la_code"]) for event, row in zip(events, invoice_rows)] + [
        (FeePeriodClosed(fee_period_id=period_id, period_start=period.start, period_end=period.end, closed_at=now,
                         scheme=scheme, invoices=len(invoice_rows)), period_id, None)])
    return period_id


async def _record_unpriced(session, period_id: str, unpriced: list[dict]) -> None:
    if unpriced:
        await repo.set_unpriced(session, period_id, unpriced)


# --- reads ----------------------------------------------------------------------------------------------
async def period_view(session, principal: Principal, period_id: str) -> dict:
    row = await repo.fee_period(session, period_id=period_id)
    if row is None:
        raise Missing("fee period")
    found = await repo.invoices_list(session, principal, fee_period_id=period_id)
    if principal.is_council and not found:
        raise Missing("fee period")  # a council sees a period through its own invoices, like any other record
    return {**row, "unpriced": row["unpriced"] if not principal.is_council else [],
            "invoices": [_invoice_summary(i) for i in found]}


async def periods(session, principal: Principal, scheme: str | None) -> list[dict]:
    rows = await repo.fee_periods_list(session, scheme, principal)  # a council: the periods holding its invoices
    return [{**r, "unpriced": r["unpriced"] if not principal.is_council else [], "invoices": None} for r in rows]


def _invoice_summary(row: dict) -> dict:
    return {**row, "number": invoice_number(row["sequence"], row["number"])}


async def invoices(session, principal: Principal, **filters) -> list[dict]:
    return [_invoice_summary(r) for r in await repo.invoices_list(session, principal, **filters)]


async def invoice_view(session, principal: Principal, invoice_id: str) -> dict:
    row = await repo.invoice(session, principal, invoice_id)
    if row is None:
        raise Missing("invoice")
    lines = await repo.lines_of(session, invoice_id)
    refs = await repo.line_references(session, [line["refers_to"] for line in lines])
    out = []
    for line in lines:
        ref = refs.get(line["refers_to"])
        out.append({**line, "daily_rate": daily_rate(line["weekly_pence"]) if line["weekly_pence"] else None,
                    "refers_to": None if ref is None else {
                        "line_id": ref["id"], "invoice_id": ref["invoice_id"], "line_no": ref["line_no"],
                        "invoice_number": invoice_number(ref["sequence"], ref["number"])}})
    return {**_invoice_summary(row), "lines": await _restricted_lines(session, principal, out)}


# A restricted child's lines (decision 0006): the money is still invoiced, so the invoice keeps every line and its
# amount, days and rate; a council's view withholds what names the child (child_ref, placement, home,
# intervention) and says so (child_withheld); the hub's view keeps it all, with the restriction's marker.
WITHHELD = ("child_ref", "placement_id", "home_id", "intervention_id")


async def _restricted_lines(session, principal: Principal, lines: list[dict]) -> list[dict]:
    children = await repo.line_children(session, lines)
    restricted = await repo.restrictions_in_force(session, children.values())
    out = []
    for line in lines:
        r = restricted.get(children.get(line["id"], ""))
        if r is None:
            out.append({**line, "child_withheld": False, "restriction": None})
        elif principal.is_council:
            out.append(withhold({**line, "restriction": None}, WITHHELD))
        else:
            out.append({**line, "child_withheld": False, "restriction": marker(r)})
    return out


async def viability(session, *, home_id: str, first_month: date, last_month: date, places: int) -> dict:
    rows = await repo.placements_in_home(session, home_id)
    every = [terms_of(r) for r in await repo.all_contracts(session)]
    scheds = defaultdict(list)
    for row in await repo.schedules_of(session, [c.id for c in every]):
        scheds[row["contract_id"]].append(schedule_of(row))
    adds = defaultdict(list)
    for row in await repo.add_ons_of(session, [c.id for c in every]):
        adds[row["placement_id"]].append(add_on_of(row))
    end_excl = period_starting("calendar_month", last_month).end_excl
    streams, spans = [], []
    for p in rows:
        stay = stay_of(p)
        spans.append((p["arrival_date"], min(p["end_date"], end_excl) if p["end_date"] else end_excl))
        terms = contract_for(every, p["la_code"], p["arrival_date"], scheds)
        if terms is None:
            continue
        streams.append(fee_stream(stay, terms, scheds[terms.id], end_excl)[0])
        streams += [add_on_stream(a, stay, terms, end_excl) for a in adds[p["id"]]]
    costs = defaultdict(int)
    for c in await repo.home_costs_between(session, [home_id], first_month, last_month):
        costs[c["month"]] += c["amount_pence"]
    months = monthly(streams, spans, places, first_month, last_month, dict(costs))
    daily = occupancy_by_day(spans, first_month, end_excl)
    first_even = next((m.month for m in months if m.surplus_pence is not None and m.surplus_pence >= 0), None)
    return {"home_id": home_id, "places": places,
            "months": [{"month": m.month, "days": m.days, "occupied_bed_days": m.occupied_bed_days,
                        "occupancy": round(m.occupancy, 4), "revenue_by_phase": m.revenue_by_kind,
                        "revenue_pence": m.revenue_pence, "cost_pence": m.cost_pence, "surplus_pence": m.surplus_pence,
                        "break_even_occupancy": None if m.break_even_occupancy is None
                        else round(m.break_even_occupancy, 4)} for m in months],
            "first_month_at_break_even": first_even,
            "occupancy_by_day": [{"date": d, "children": n} for d, n in daily]}


def ramp_up_projection(*, places: int, phase_1_weekly: int, phase_2_weekly: int, monthly_cost: int,
                       first_month: date, months: int) -> dict:
    rows, first = ramp_up(places, phase_1_weekly, phase_2_weekly, monthly_cost, first_month, months)
    return {"places": places, "break_even_month": first,
            "break_even_on": None if first is None else rows[first - 1].month,
            "months": [r.__dict__ | {"surplus_pence": r.surplus_pence} for r in rows]}
