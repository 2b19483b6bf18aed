"""All of billing's SQL: what the consumers write, contracts and schedules, the close (scheme lock, change
queue, billed lines, gapless counters, bulk line inserts) and the reads. Every read on behalf of a caller
starts from a statement narrowed to what the caller may see (`readable_*`): a council its own contracts and
invoices (another council's answer 404). Nothing here commits."""
from __future__ import annotations

from datetime import date, datetime
from typing import Iterable, Sequence

from sqlalchemy import Select, and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.db import insert_for
from libs.common import restrictions as restriction_rules
from libs.common.tenancy import readable

from .tables import (restricted_children, add_ons, admissions, billing_changes, contracts, fee_notices, fee_periods, fee_schedules,
                     home_costs, interventions, invoice_counters, invoice_lines, invoices, placements, referrals,
                     schemes)

CHUNK = 5000


def _chunks(items: Sequence, size: int = CHUNK):
    items = list(items)
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _insert_ignore(session: AsyncSession, table, keys: list[str]):
    """INSERT ... ON CONFLICT DO NOTHING in the session's dialect."""
    return insert_for(session, table).on_conflict_do_nothing(index_elements=keys)


# --- what the consumers write -------------------------------------------------------------------------
async def upsert_referral(session: AsyncSession, referral_id: str, la_code: str, child_ref: str) -> None:
    found = (await session.execute(select(referrals.c.referral_id).where(
        referrals.c.referral_id == referral_id))).first()
    if found:
        await session.execute(update(referrals).where(referrals.c.referral_id == referral_id)
                              .values(la_code=la_code, child_ref=child_ref))
    else:
        await session.execute(referrals.insert().values(referral_id=referral_id, la_code=la_code,
                                                        child_ref=child_ref))


async def insert_admission(session: AsyncSession, **values) -> None:
    await session.execute(_insert_ignore(session, admissions, ["admission_id"]).values(**values))


async def fee_basis_of(session: AsyncSession, referral_id: str) -> str | None:
    return (await session.execute(select(admissions.c.fee_basis).where(admissions.c.referral_id == referral_id)
                                  .limit(1))).scalar()


async def get_placement(session: AsyncSession, placement_id: str, *, for_update: bool = False) -> dict | None:
    stmt = select(placements).where(placements.c.id == placement_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).mappings().first()
    return dict(row) if row else None


async def insert_placement(session: AsyncSession, **values) -> None:
    await session.execute(placements.insert().values(**values))


async def update_placement(session: AsyncSession, placement_id: str, **values) -> None:
    await session.execute(update(placements).where(placements.c.id == placement_id).values(**values))


async def add_change(session: AsyncSession, now: datetime, *, placement_id: str | None = None,
                     contract_id: str | None = None, intervention_id: str | None = None) -> None:
    await session.execute(billing_changes.insert().values(placement_id=placement_id, contract_id=contract_id,
                                                          intervention_id=intervention_id, created_at=now))


# --- outreach interventions (issue 16) ----------------------------------------------------------------------
async def get_intervention(session: AsyncSession, intervention_id: str, *, for_update: bool = False) -> dict | None:
    stmt = select(interventions).where(interventions.c.id == intervention_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).mappings().first()
    return dict(row) if row else None


async def insert_intervention(session: AsyncSession, **values) -> None:
    await session.execute(_insert_ignore(session, interventions, ["id"]).values(**values))


async def update_intervention(session: AsyncSession, intervention_id: str, **values) -> None:
    await session.execute(update(interventions).where(interventions.c.id == intervention_id).values(**values))


async def interventions_for_close(session: AsyncSession, la_codes: Iterable[str], period_start: date,
                                  period_end: date, changed: Iterable[str], retainer_councils: Iterable[str]
                                  ) -> list[dict]:
    """Interventions a close must look at: started and running in the period or never invoiced, those changed,
    and every fixed-fee one of a council with a retainer (which of them the retainer covers depends on all)."""
    cols = [*interventions.c, referrals.c.child_ref]
    base = select(*cols).select_from(interventions.outerjoin(referrals, referrals.c.referral_id ==
                                                             interventions.c.referral_id))
    started = interventions.c.start_date.is_not(None)
    rows = {}
    stmt = base.where(interventions.c.la_code.in_(list(la_codes)), started,
                      interventions.c.start_date <= period_end,
                      or_(interventions.c.end_date.is_(None), interventions.c.end_date >= period_start,
                          interventions.c.billed_through.is_(None)))
    for r in (await session.execute(stmt)).mappings().all():
        rows[r["id"]] = dict(r)
    retainers = list(retainer_councils)
    if retainers:
        for r in (await session.execute(base.where(interventions.c.la_code.in_(retainers), started,
                                                   interventions.c.basis == "fixed_fee"))).mappings().all():
            rows[r["id"]] = dict(r)
    missing = [i for i in changed if i not in rows]
    for chunk in _chunks(missing):
        for r in (await session.execute(base.where(interventions.c.id.in_(chunk), started))).mappings().all():
            rows[r["id"]] = dict(r)
    return list(rows.values())


async def mark_interventions_billed(session: AsyncSession, intervention_ids: Iterable[str], through: date) -> None:
    for chunk in _chunks(list(intervention_ids)):
        await session.execute(update(interventions).where(interventions.c.id.in_(chunk),
                                                          interventions.c.billed_through.is_(None))
                              .values(billed_through=through))


# --- the weekly fee told to the other services (placement.fee_applied) -------------------------------------
async def fee_notice(session: AsyncSession, referral_id: str) -> dict | None:
    row = (await session.execute(select(fee_notices).where(fee_notices.c.referral_id == referral_id)
                                 .with_for_update())).mappings().first()
    return dict(row) if row else None


async def insert_fee_notice(session: AsyncSession, **values) -> None:
    await session.execute(fee_notices.insert().values(**values))


async def update_fee_notice(session: AsyncSession, referral_id: str, **values) -> None:
    await session.execute(update(fee_notices).where(fee_notices.c.referral_id == referral_id).values(**values))


async def fee_notices_for(session: AsyncSession, *, referral_ids: Iterable[str] | None = None,
                          la_codes: Iterable[str] | None = None, running_on: date | None = None) -> list[dict]:
    """Notices to re-work, locked until the transaction ends (a second replica's sweep waits, then finds
    nothing changed): these referrals, these councils' or (running_on) every stay not ended before that day."""
    stmt = select(fee_notices).order_by(fee_notices.c.referral_id).with_for_update()
    if referral_ids is not None:
        stmt = stmt.where(fee_notices.c.referral_id.in_(list(referral_ids)))
    if la_codes is not None:
        stmt = stmt.where(fee_notices.c.la_code.in_(list(la_codes)))
    if running_on is not None:
        stmt = stmt.where(or_(fee_notices.c.end_date.is_(None), fee_notices.c.end_date >= running_on))
    return [dict(r) for r in (await session.execute(stmt)).mappings().all()]


async def placements_of_referrals(session: AsyncSession, referral_ids: Iterable[str]) -> dict[str, dict]:
    out = {}
    for chunk in _chunks(list(referral_ids)):
        for r in (await session.execute(select(placements).where(placements.c.referral_id.in_(chunk)))).mappings():
            out[r["referral_id"]] = dict(r)
    return out


async def get_placement_of_referral(session: AsyncSession, referral_id: str) -> dict | None:
    row = (await session.execute(select(placements).where(placements.c.referral_id == referral_id).limit(1))
           ).mappings().first()
    return dict(row) if row else None


async def latest_admission_of(session: AsyncSession, referral_id: str) -> str | None:
    return (await session.execute(select(admissions.c.admission_id).where(admissions.c.referral_id == referral_id)
                                  .order_by(admissions.c.planned_start_date.desc()).limit(1))).scalar()


# --- contracts, schedules, add-ons, costs ---------------------------------------------------------------
def readable_contracts(principal: Principal) -> Select:
    return readable(select(contracts), principal, contracts.c.la_code)


async def contract(session: AsyncSession, principal: Principal, contract_id: str, *,
                   for_update: bool = False) -> dict | None:
    stmt = readable_contracts(principal).where(contracts.c.id == contract_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).mappings().first()
    return dict(row) if row else None


async def contracts_page(session: AsyncSession, principal: Principal, la_code: str | None) -> list[dict]:
    stmt = readable_contracts(principal)
    if la_code:
        stmt = stmt.where(contracts.c.la_code == la_code)
    return [dict(r) for r in (await session.execute(stmt.order_by(contracts.c.start_date, contracts.c.id)))
            .mappings().all()]


async def all_contracts(session: AsyncSession) -> list[dict]:
    return [dict(r) for r in (await session.execute(select(contracts))).mappings().all()]


async def insert_contract(session: AsyncSession, **values) -> None:
    await session.execute(contracts.insert().values(**values))


async def bump_contract(session: AsyncSession, contract_id: str, version: int) -> None:
    await session.execute(update(contracts).where(contracts.c.id == contract_id).values(version=version + 1))


async def schedules_of(session: AsyncSession, contract_ids: Iterable[str]) -> list[dict]:
    ids = list(contract_ids)
    if not ids:
        return []
    return [dict(r) for r in (await session.execute(
        select(fee_schedules).where(fee_schedules.c.contract_id.in_(ids))
        .order_by(fee_schedules.c.effective_from))).mappings().all()]


async def insert_schedule(session: AsyncSession, **values) -> None:
    await session.execute(fee_schedules.insert().values(**values))


async def add_ons_of(session: AsyncSession, contract_ids: Iterable[str]) -> list[dict]:
    ids = list(contract_ids)
    if not ids:
        return []
    return [dict(r) for r in (await session.execute(
        select(add_ons).where(add_ons.c.contract_id.in_(ids)).order_by(add_ons.c.start_date))).mappings().all()]


async def insert_add_on(session: AsyncSession, **values) -> None:
    await session.execute(add_ons.insert().values(**values))


async def set_home_cost(session: AsyncSession, home_id: str, month: date, category: str, amount: int,
                        now: datetime) -> None:
    await session.execute(delete(home_costs).where(home_costs.c.home_id == home_id, home_costs.c.month == month,
                                                   home_costs.c.category == category))
    await session.execute(home_costs.insert().values(home_id=home_id, month=month, category=category,
                                                     amount_pence=amount, updated_at=now))


async def home_costs_between(session: AsyncSession, home_ids: Iterable[str], first: date, last: date) -> list[dict]:
    return [dict(r) for r in (await session.execute(
        select(home_costs).where(home_costs.c.home_id.in_(list(home_ids)), home_costs.c.month >= first,
                                 home_costs.c.month <= last).order_by(home_costs.c.month, home_costs.c.category)))
            .mappings().all()]


async def placements_in_home(session: AsyncSession, home_id: str) -> list[dict]:
    return [dict(r) for r in (await session.execute(
        select(placements).where(placements.c.home_id == home_id))).mappings().all()]


# --- the close ----------------------------------------------------------------------------------------
async def lock_scheme(session: AsyncSession, scheme: str) -> dict:
    """The scheme's row, locked until the transaction ends: closes of one scheme run one at a time."""
    await session.execute(_insert_ignore(session, schemes, ["scheme"]).values(scheme=scheme))
    return dict((await session.execute(select(schemes).where(schemes.c.scheme == scheme).with_for_update()))
                .mappings().one())


async def set_scheme(session: AsyncSession, scheme: str, **values) -> None:
    await session.execute(update(schemes).where(schemes.c.scheme == scheme).values(**values))


async def fee_period(session: AsyncSession, *, period_id: str | None = None, scheme: str | None = None,
                     start: date | None = None) -> dict | None:
    stmt = select(fee_periods)
    stmt = stmt.where(fee_periods.c.id == period_id) if period_id else \
        stmt.where(fee_periods.c.scheme == scheme, fee_periods.c.period_start == start)
    row = (await session.execute(stmt)).mappings().first()
    return dict(row) if row else None


async def fee_periods_list(session: AsyncSession, scheme: str | None,
                           principal: Principal | None = None) -> list[dict]:
    """The closed periods; for a council, only those holding one of its invoices (one query: the
    invoices index on fee_period_id answers the semi-join, no invoice row is read into Python)."""
    stmt = select(fee_periods).order_by(fee_periods.c.scheme, fee_periods.c.period_start)
    if scheme:
        stmt = stmt.where(fee_periods.c.scheme == scheme)
    if principal is not None and principal.is_council:
        theirs = readable(select(invoices.c.fee_period_id), principal, invoices.c.la_code)
        stmt = stmt.where(fee_periods.c.id.in_(theirs))
    return [dict(r) for r in (await session.execute(stmt)).mappings().all()]


async def insert_fee_period(session: AsyncSession, **values) -> None:
    await session.execute(fee_periods.insert().values(**values))


async def pending_changes(session: AsyncSession) -> list[dict]:
    return [dict(r) for r in (await session.execute(select(billing_changes))).mappings().all()]


async def forget_changes(session: AsyncSession, seqs: Iterable[int]) -> None:
    for chunk in _chunks(list(seqs)):
        await session.execute(delete(billing_changes).where(billing_changes.c.seq.in_(chunk)))


async def placements_for_close(session: AsyncSession, la_codes: Iterable[str], period_start: date,
                               period_end: date, changed: Iterable[str]) -> list[dict]:
    """Placements a close must look at: those present in the period or never invoiced, and those changed."""
    cols = [placements.c.id, placements.c.referral_id, placements.c.la_code, placements.c.home_id,
            placements.c.arrival_date, placements.c.end_date, placements.c.transitions, placements.c.billed_through,
            referrals.c.child_ref]
    base = select(*cols).select_from(placements.outerjoin(referrals, referrals.c.referral_id ==
                                                          placements.c.referral_id))
    rows = {}
    stmt = base.where(placements.c.la_code.in_(list(la_codes)), placements.c.arrival_date <= period_end,
                      or_(placements.c.end_date.is_(None), placements.c.end_date >= period_start,
                          placements.c.billed_through.is_(None)))
    for r in (await session.execute(stmt)).mappings().all():
        rows[r["id"]] = dict(r)
    missing = [pid for pid in changed if pid not in rows]
    for chunk in _chunks(missing):
        for r in (await session.execute(base.where(placements.c.id.in_(chunk)))).mappings().all():
            rows[r["id"]] = dict(r)
    return list(rows.values())


async def placements_of_councils(session: AsyncSession, la_codes: Iterable[str]) -> list[str]:
    return list((await session.execute(select(placements.c.id).where(
        placements.c.la_code.in_(list(la_codes))))).scalars())


async def billed_lines(session: AsyncSession, placement_ids: Iterable[str] = (), contract_ids: Iterable[str] = (),
                       intervention_ids: Iterable[str] = (), retainer_contract_ids: Iterable[str] = ()
                       ) -> list[dict]:
    """Lines already invoiced for these placements (or these contracts' blocks), these outreach interventions
    (or these contracts' outreach retainers), adjustments included."""
    cols = [invoice_lines.c.id, invoice_lines.c.kind, invoice_lines.c.stream, invoice_lines.c.placement_id,
            invoice_lines.c.from_date, invoice_lines.c.to_date, invoice_lines.c.amount_pence,
            invoice_lines.c.refers_to, invoices.c.contract_id, invoice_lines.c.intervention_id]
    base = select(*cols).select_from(invoice_lines.join(invoices, invoices.c.id == invoice_lines.c.invoice_id))
    out = []
    for chunk in _chunks(list(placement_ids)):
        out += [dict(r) for r in (await session.execute(base.where(invoice_lines.c.placement_id.in_(chunk))))
                .mappings().all()]
    ids = list(contract_ids)
    if ids:
        out += [dict(r) for r in (await session.execute(base.where(invoice_lines.c.stream == "block",
                                                                   invoices.c.contract_id.in_(ids))))
                .mappings().all()]
    for chunk in _chunks(list(intervention_ids)):
        out += [dict(r) for r in (await session.execute(base.where(invoice_lines.c.intervention_id.in_(chunk))))
                .mappings().all()]
    ids = list(retainer_contract_ids)
    if ids:
        out += [dict(r) for r in (await session.execute(base.where(
            invoice_lines.c.stream == "outreach", invoice_lines.c.intervention_id.is_(None),
            invoices.c.contract_id.in_(ids)))).mappings().all()]
    return out


async def take_numbers(session: AsyncSession, wanted: dict[str, int]) -> dict[str, int]:
    """For each sequence, reserve `wanted[sequence]` numbers in one statement (an upsert on the counter rows,
    which holds their row locks until the transaction ends: gapless, since the numbers are used in the same
    transaction and a rolled-back close gives them back). Answers the first number reserved per sequence."""
    if not wanted:
        return {}
    stmt = insert_for(session, invoice_counters).values([{"sequence": k, "last_number": n} for k, n in sorted(wanted.items())])
    stmt = stmt.on_conflict_do_update(index_elements=["sequence"], set_={
        "last_number": invoice_counters.c.last_number + stmt.excluded.last_number}).returning(
        invoice_counters.c.sequence, invoice_counters.c.last_number)
    rows = (await session.execute(stmt)).all()
    return {seq: last - wanted[seq] + 1 for seq, last in rows}


async def insert_invoices(session: AsyncSession, rows: list[dict]) -> None:
    for chunk in _chunks(rows):
        await session.execute(invoices.insert(), chunk)


async def insert_lines(session: AsyncSession, rows: list[dict]) -> None:
    for chunk in _chunks(rows):
        await session.execute(invoice_lines.insert(), chunk)


async def mark_billed(session: AsyncSession, placement_ids: Iterable[str], through: date) -> None:
    """First invoiced through `through` (set once: later closes find a placement by its dates or its changes)."""
    for chunk in _chunks(list(placement_ids)):
        await session.execute(update(placements).where(placements.c.id.in_(chunk),
                                                       placements.c.billed_through.is_(None))
                              .values(billed_through=through))


# --- invoice reads --------------------------------------------------------------------------------------
def readable_invoices(principal: Principal) -> Select:
    return readable(select(invoices), principal, invoices.c.la_code)


async def invoice(session: AsyncSession, principal: Principal, invoice_id: str) -> dict | None:
    row = (await session.execute(readable_invoices(principal).where(invoices.c.id == invoice_id))).mappings().first()
    return dict(row) if row else None


async def invoices_list(session: AsyncSession, principal: Principal, *, fee_period_id: str | None = None,
                        contract_id: str | None = None, la_code: str | None = None) -> list[dict]:
    stmt = readable_invoices(principal)
    if fee_period_id:
        stmt = stmt.where(invoices.c.fee_period_id == fee_period_id)
    if contract_id:
        stmt = stmt.where(invoices.c.contract_id == contract_id)
    if la_code:
        stmt = stmt.where(invoices.c.la_code == la_code)
    stmt = stmt.order_by(invoices.c.period_start, invoices.c.sequence, invoices.c.number)
    return [dict(r) for r in (await session.execute(stmt)).mappings().all()]


async def lines_of(session: AsyncSession, invoice_id: str) -> list[dict]:
    return [dict(r) for r in (await session.execute(
        select(invoice_lines).where(invoice_lines.c.invoice_id == invoice_id).order_by(invoice_lines.c.line_no)))
            .mappings().all()]


async def line_references(session: AsyncSession, line_ids: Iterable[str]) -> dict[str, dict]:
    """line id -> the invoice (number parts) and line number it belongs to."""
    ids = [i for i in set(line_ids) if i]
    if not ids:
        return {}
    rows = (await session.execute(
        select(invoice_lines.c.id, invoice_lines.c.line_no, invoices.c.id.label("invoice_id"), invoices.c.sequence,
               invoices.c.number).select_from(invoice_lines.join(invoices, invoices.c.id == invoice_lines.c.invoice_id))
        .where(invoice_lines.c.id.in_(ids)))).mappings().all()
    return {r["id"]: dict(r) for r in rows}


async def invoice_counts(session: AsyncSession) -> dict[str, int]:
    rows = (await session.execute(select(invoices.c.sequence, func.count(), func.max(invoices.c.number))
                                  .group_by(invoices.c.sequence))).all()
    return {r[0]: (r[1], r[2]) for r in rows}


__all__ = ["and_"]


async def set_unpriced(session: AsyncSession, period_id: str, unpriced: list[dict]) -> None:
    await session.execute(update(fee_periods).where(fee_periods.c.id == period_id).values(unpriced=unpriced))


# --- restrictions of processing (decision 0006; libs.common.restrictions) ------------------------------------
async def line_children(session: AsyncSession, lines: list[dict]) -> dict[str, str]:
    """Each line's child (referral id), by the line's placement or outreach intervention."""
    placement_ids = sorted({line["placement_id"] for line in lines if line.get("placement_id")})
    intervention_ids = sorted({line["intervention_id"] for line in lines if line.get("intervention_id")})
    by_placement, by_intervention = {}, {}
    if placement_ids:
        by_placement = dict((await session.execute(select(placements.c.id, placements.c.referral_id).where(
            placements.c.id.in_(placement_ids)))).all())
    if intervention_ids:
        by_intervention = dict((await session.execute(select(interventions.c.id, interventions.c.referral_id).where(
            interventions.c.id.in_(intervention_ids)))).all())
    out = {}
    for line in lines:
        child = by_placement.get(line.get("placement_id")) or by_intervention.get(line.get("intervention_id"))
        if child:
            out[line["id"]] = child
    return out


async def restrictions_in_force(session: AsyncSession, referral_ids) -> dict[str, dict]:
    return await restriction_rules.in_force(session, restricted_children, referral_ids)
