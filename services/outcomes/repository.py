"""All of the outcomes service's SQL: the read models kept from events, the measures, the tenancy-narrowed
statements (readable_*), and the report queries."""
from __future__ import annotations

from datetime import date, datetime
from typing import Iterable

from sqlalchemy import Select, and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common import restrictions as restriction_rules
from libs.common.tenancy import readable

from .tables import (restricted_children, assessments, contract_lines, decisions, fee_notices, homes, intervention_follow_ups,
                     intervention_sessions, interventions, invoice_lines, measure_corrections, measure_notices,
                     measurements, outreach_lines, outreach_setting_changes, outreach_settings, placements,
                     referral_needs, referrals)


def hours(t: datetime) -> float:
    return t.timestamp() / 3600.0


async def _upsert(session: AsyncSession, table, key: dict, values: dict) -> None:
    """Insert the row, or set `values` on the one with this key. Not one INSERT .. ON CONFLICT: an update may set
    only some columns of a row whose NOT NULL ones it does not know, and the INSERT half would be refused."""
    cond = and_(*[table.c[k] == v for k, v in key.items()])
    found = (await session.execute(select(*[table.c[k] for k in key]).where(cond).with_for_update())).first()
    if found is None:
        await session.execute(table.insert().values(**key, **values))
    elif values:
        await session.execute(table.update().where(cond).values(**values))


# --- read models from events -----------------------------------------------------------------------------
async def save_referral(session: AsyncSession, *, referral_id: str, la_code: str, child_ref: str,
                        home_outward_code: str | None, urgency: str | None, received_at: datetime,
                        needs: Iterable[str], kind: str = "bed", handoff_from_placement_id: str | None = None) -> None:
    received_on = received_at.date()
    await _upsert(session, referrals, {"referral_id": referral_id},
                  dict(la_code=la_code, child_ref=child_ref, home_outward_code=home_outward_code, urgency=urgency,
                       received_on=received_on, received_day=received_on.toordinal(), received_hours=hours(received_at),
                       withdrawn=False, kind=kind, handoff_from_placement_id=handoff_from_placement_id))
    await session.execute(referral_needs.delete().where(referral_needs.c.referral_id == referral_id))
    codes = sorted(set(needs)) if kind != "outreach" else []  # needs by need: the demand for beds
    if codes:
        await session.execute(referral_needs.insert(), [
            dict(referral_id=referral_id, need_code=c, la_code=la_code, received_day=received_on.toordinal())
            for c in codes])
    # events of other topics may have come first: fill in what they could not know
    await session.execute(update(decisions).where(decisions.c.referral_id == referral_id)
                          .values(received_hours=hours(received_at)))
    await session.execute(update(placements).where(placements.c.referral_id == referral_id)
                          .values(received_day=received_on.toordinal()))


async def withdraw_referral(session: AsyncSession, referral_id: str) -> None:
    await session.execute(update(referrals).where(referrals.c.referral_id == referral_id).values(withdrawn=True))


async def get_referral(session: AsyncSession, referral_id: str) -> dict | None:
    return (await session.execute(select(referrals).where(referrals.c.referral_id == referral_id))).mappings().first()


async def save_home(session: AsyncSession, *, home_id: str, postcode_district: str | None, places: int) -> None:
    await _upsert(session, homes, {"home_id": home_id}, dict(postcode_district=postcode_district,
                                                            registered_places=places))


async def get_home(session: AsyncSession, home_id: str) -> dict | None:
    return (await session.execute(select(homes).where(homes.c.home_id == home_id))).mappings().first()


async def save_decision(session: AsyncSession, **values) -> None:
    await _upsert(session, decisions, {"admission_id": values.pop("admission_id")}, values)


async def save_assessment(session: AsyncSession, **values) -> None:
    await _upsert(session, assessments, {"referral_id": values.pop("referral_id")}, values)


async def get_placement_row(session: AsyncSession, placement_id: str, *, for_update: bool = False) -> dict | None:
    stmt = select(placements).where(placements.c.placement_id == placement_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).mappings().first()


async def save_placement(session: AsyncSession, placement_id: str, values: dict) -> None:
    await _upsert(session, placements, {"placement_id": placement_id}, values)


async def placements_to_locate(session: AsyncSession, *, referral_id: str | None = None,
                               home_id: str | None = None) -> list[dict]:
    stmt = select(placements.c.placement_id, placements.c.referral_id, placements.c.home_id, placements.c.la_code)
    stmt = stmt.where(placements.c.referral_id == referral_id) if referral_id else \
        stmt.where(placements.c.home_id == home_id)
    return list((await session.execute(stmt)).mappings().all())


async def save_fee_notice(session: AsyncSession, **values) -> None:
    await _upsert(session, fee_notices, {"referral_id": values.pop("referral_id"), "sequence": values.pop("sequence")},
                  values)


async def latest_fee(session: AsyncSession, referral_id: str) -> dict | None:
    return (await session.execute(select(fee_notices).where(fee_notices.c.referral_id == referral_id)
                                  .order_by(fee_notices.c.sequence.desc()).limit(1))).mappings().first()


async def fee_history(session: AsyncSession, referral_id: str) -> list[dict]:
    return list((await session.execute(select(fee_notices).where(fee_notices.c.referral_id == referral_id)
                                       .order_by(fee_notices.c.sequence))).mappings().all())


async def set_fee_basis(session: AsyncSession, referral_id: str, basis: str, contract_id: str | None) -> None:
    await session.execute(update(placements).where(placements.c.referral_id == referral_id)
                          .values(fee_basis=basis, contract_id=contract_id))


async def save_invoice_lines(session: AsyncSession, rows: list[dict]) -> None:
    """Lines are never changed once issued: a redelivered invoice inserts only the lines not yet kept."""
    if not rows:
        return
    known = set((await session.execute(select(invoice_lines.c.line_id).where(
        invoice_lines.c.line_id.in_([r["line_id"] for r in rows])))).scalars().all())
    fresh = [r for r in rows if r["line_id"] not in known]
    if fresh:
        await session.execute(invoice_lines.insert(), fresh)


async def save_new_rows(session: AsyncSession, table, key: str, rows: list[dict]) -> None:
    """Rows never changed once kept (block and outreach lines, sessions): a redelivery inserts only the new."""
    if not rows:
        return
    known = set((await session.execute(select(table.c[key]).where(
        table.c[key].in_([r[key] for r in rows])))).scalars().all())
    fresh = [r for r in rows if r[key] not in known]
    if fresh:
        await session.execute(table.insert(), fresh)


async def save_contract_lines(session: AsyncSession, rows: list[dict]) -> None:
    await save_new_rows(session, contract_lines, "line_id", rows)


async def invoice_lines_of(session: AsyncSession, placement_id: str) -> list[dict]:
    return [dict(r) for r in (await session.execute(
        select(invoice_lines).where(invoice_lines.c.placement_id == placement_id)
        .order_by(invoice_lines.c.from_date, invoice_lines.c.stream, invoice_lines.c.invoice_id,
                  invoice_lines.c.line_no))).mappings().all()]


# --- tenancy ------------------------------------------------------------------------------------------
def readable_placements(principal: Principal) -> Select:
    """Every read of a placement's outcomes starts here: a council sees its own children, a home manager
    the placements of their homes, the rest of the hub everything."""
    stmt = readable(select(placements), principal, placements.c.la_code)
    if principal.role == "home_manager" and not principal.is_hub:
        stmt = stmt.where(placements.c.home_id.in_(list(principal.homes) or ["-"]))
    return stmt


async def readable_placement(session: AsyncSession, principal: Principal, placement_id: str,
                             *, for_update: bool = False) -> dict | None:
    """A placement the caller may read; a council's placement of a child whose record is restricted raises
    Restricted (answered 451, decision 0006)."""
    stmt = readable_placements(principal).where(placements.c.placement_id == placement_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).mappings().first()
    if row is not None and principal.is_council:
        await restriction_rules.guard(session, restricted_children, principal, row["referral_id"])
    return row


# --- measures -----------------------------------------------------------------------------------------
async def measurements_of(session: AsyncSession, placement_ids: list[str]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {p: [] for p in placement_ids}
    if not placement_ids:
        return out
    for chunk in range(0, len(placement_ids), 500):
        rows = (await session.execute(select(measurements).where(
            measurements.c.placement_id.in_(placement_ids[chunk:chunk + 500]))
            .order_by(measurements.c.recorded_on, measurements.c.timepoint))).mappings().all()
        for r in rows:
            out[r["placement_id"]].append(dict(r))
    return out


async def measurement_for_update(session: AsyncSession, placement_id: str, timepoint: str) -> dict | None:
    return (await session.execute(select(measurements).where(
        measurements.c.placement_id == placement_id, measurements.c.timepoint == timepoint)
        .with_for_update())).mappings().first()


async def insert_measurement(session: AsyncSession, **values) -> None:
    await session.execute(measurements.insert().values(**values))


async def update_measurement(session: AsyncSession, measurement_id: str, values: dict) -> None:
    await session.execute(measurements.update().where(measurements.c.id == measurement_id).values(**values))


async def insert_correction(session: AsyncSession, **values) -> None:
    await session.execute(measure_corrections.insert().values(**values))


async def corrections_of(session: AsyncSession, placement_id: str) -> list[dict]:
    return [dict(r) for r in (await session.execute(
        select(measure_corrections).where(measure_corrections.c.placement_id == placement_id)
        .order_by(measure_corrections.c.corrected_at, measure_corrections.c.version))).mappings().all()]


async def insert_notice(session: AsyncSession, deadline_key: str, notice: str, now: datetime) -> None:
    """Unique on (deadline_key, notice): a second insert of the same notice raises IntegrityError."""
    await session.execute(measure_notices.insert().values(deadline_key=deadline_key, notice=notice, sent_at=now))


async def sent_notices(session: AsyncSession) -> set[tuple[str, str]]:
    return {(r[0], r[1]) for r in (await session.execute(select(measure_notices.c.deadline_key,
                                                                measure_notices.c.notice))).all()}


async def running_or_recently_ended(session: AsyncSession, today: date) -> list[dict]:
    """Placements whose measurement points may still be open (the ending point is due 14 days after the end)."""
    stmt = select(placements).where(or_(placements.c.end_day.is_(None),
                                        placements.c.end_day >= today.toordinal() - 60))
    return list((await session.execute(stmt)).mappings().all())


# --- cohorts ------------------------------------------------------------------------------------------
async def cohort_placements(session: AsyncSession, principal: Principal, start: date, end: date, *,
                            la_code: str | None, home_id: str | None) -> list[dict]:
    stmt = readable_placements(principal).where(
        placements.c.start_day <= end.toordinal(),
        or_(placements.c.end_day.is_(None), placements.c.end_day >= start.toordinal()))
    if la_code:
        stmt = stmt.where(placements.c.la_code == la_code)
    if home_id:
        stmt = stmt.where(placements.c.home_id == home_id)
    return list((await session.execute(stmt)).mappings().all())


async def child_refs(session: AsyncSession, referral_ids: list[str]) -> dict[str, tuple[str, str]]:
    out = {}
    for chunk in range(0, len(referral_ids), 500):
        rows = (await session.execute(select(referrals.c.referral_id, referrals.c.la_code, referrals.c.child_ref)
                                      .where(referrals.c.referral_id.in_(referral_ids[chunk:chunk + 500])))).all()
        out.update({r[0]: (r[1], r[2]) for r in rows})
    return out


async def later_referral_days(session: AsyncSession, children: list[tuple[str, str]]) -> dict[tuple[str, str], list[int]]:
    """The days each child (council, child reference) was referred for a bed: a re-referral. An outreach
    referral (the team following the child into the next placement) is support, not a breakdown."""
    out: dict[tuple[str, str], list[int]] = {}
    for la, ref in set(children):
        rows = (await session.execute(select(referrals.c.received_day).where(
            referrals.c.la_code == la, referrals.c.child_ref == ref,
            or_(referrals.c.kind.is_(None), referrals.c.kind != "outreach")))).scalars().all()
        out[(la, ref)] = sorted(rows)
    return out


async def follow_ups_of_children(session: AsyncSession, children: list[tuple[str, str]]) -> dict[tuple[str, str], list[dict]]:
    """Outreach follow-ups (whether the child's placement held) recorded for each child, by any of its
    referrals: evidence of whether a step-down held."""
    out: dict[tuple[str, str], list[dict]] = {}
    for la, ref in set(children):
        rows = (await session.execute(
            select(intervention_follow_ups.c.recorded_on, intervention_follow_ups.c.held,
                   intervention_follow_ups.c.breakdown_date, intervention_follow_ups.c.checkpoint)
            .select_from(intervention_follow_ups.join(referrals,
                                                      referrals.c.referral_id == intervention_follow_ups.c.referral_id))
            .where(referrals.c.la_code == la, referrals.c.child_ref == ref))).mappings().all()
        out[(la, ref)] = [dict(r) for r in rows]
    return out


# --- sufficiency --------------------------------------------------------------------------------------
def _la(stmt, column, la_code: str | None):
    return stmt.where(column == la_code) if la_code else stmt


async def sufficiency_rows(session: AsyncSession, start: date, end: date, la_code: str | None,
                           is_postgres: bool) -> dict:
    d0, d1 = start.toordinal(), end.toordinal()
    out: dict = {}
    bed = or_(referrals.c.kind.is_(None), referrals.c.kind != "outreach")
    q = _la(select(referrals.c.la_code, func.count()).where(referrals.c.received_day.between(d0, d1), bed),
            referrals.c.la_code, la_code).group_by(referrals.c.la_code)
    out["referrals_by_council"] = dict((await session.execute(q)).all())
    q = _la(select(func.count()).where(referrals.c.received_day.between(d0, d1), referrals.c.kind == "outreach"),
            referrals.c.la_code, la_code)
    out["outreach_referrals"] = int((await session.execute(q)).scalar_one())
    q = _la(select(referral_needs.c.need_code, func.count()).where(referral_needs.c.received_day.between(d0, d1)),
            referral_needs.c.la_code, la_code).group_by(referral_needs.c.need_code)
    out["referrals_by_need"] = dict((await session.execute(q)).all())
    q = _la(select(placements.c.la_code, func.count()).where(placements.c.start_day.between(d0, d1)),
            placements.c.la_code, la_code).group_by(placements.c.la_code)
    out["placements_by_council"] = dict((await session.execute(q)).all())
    q = _la(select(decisions.c.decision, decisions.c.reason_code, func.count())
            .where(decisions.c.decided_day.between(d0, d1)), decisions.c.la_code, la_code) \
        .group_by(decisions.c.decision, decisions.c.reason_code)
    out["decisions"] = [tuple(r) for r in (await session.execute(q)).all()]

    to_decision = (decisions.c.decided_hours - decisions.c.received_hours) / 24.0
    to_admission = placements.c.start_day - placements.c.received_day
    qd = _la(select(to_decision.label("v")).where(decisions.c.decided_day.between(d0, d1),
                                                  decisions.c.received_hours.is_not(None)),
             decisions.c.la_code, la_code)
    qa = _la(select(to_admission.label("v")).where(placements.c.start_day.between(d0, d1),
                                                   placements.c.received_day.is_not(None)),
             placements.c.la_code, la_code)
    qk = _la(select(placements.c.distance_km.label("v")).where(placements.c.start_day.between(d0, d1),
                                                              placements.c.distance_km.is_not(None)),
             placements.c.la_code, la_code)
    for name, sub in (("days_to_decision", qd), ("days_to_admission", qa), ("distance_km", qk)):
        if is_postgres:
            s = sub.subquery()
            row = (await session.execute(select(
                func.count(s.c.v), func.percentile_cont(0.5).within_group(s.c.v),
                func.percentile_cont(0.9).within_group(s.c.v)))).one()
            out[name] = {"n": row[0], "median": row[1], "p90": row[2]}
        else:
            values = sorted(float(v) for v in (await session.execute(sub)).scalars().all())
            out[name] = {"n": len(values), "median": _pct(values, 0.5), "p90": _pct(values, 0.9)}

    q = _la(select(func.count(), func.sum(case((placements.c.outside_area.is_(True), 1), else_=0)),
                   func.sum(case((placements.c.outside_area.is_not(None), 1), else_=0)))
            .where(placements.c.start_day.between(d0, d1)), placements.c.la_code, la_code)
    total, outside, known = (await session.execute(q)).one()
    out["outside_area"] = {"placements": total or 0, "outside": outside or 0, "known": known or 0}

    # occupancy: bed-days of the stays overlapping the range, clipped to it
    lo = case((placements.c.start_day > d0, placements.c.start_day), else_=d0)
    hi = case((placements.c.end_day.is_(None), d1), (placements.c.end_day <= d1, placements.c.end_day - 1),
              else_=d1)   # the leaving day is not a night in the bed
    q = _la(select(func.coalesce(func.sum(case((hi >= lo, hi - lo + 1), else_=0)), 0)).where(
        placements.c.start_day <= d1, or_(placements.c.end_day.is_(None), placements.c.end_day > d0)),
        placements.c.la_code, la_code)
    out["bed_days"] = int((await session.execute(q)).scalar_one())
    out["registered_places"] = int((await session.execute(
        select(func.coalesce(func.sum(homes.c.registered_places), 0)))).scalar_one())

    q = _la(select(placements.c.fee_basis, func.count()).where(
        placements.c.start_day <= d1, or_(placements.c.end_day.is_(None), placements.c.end_day > d0)),
        placements.c.la_code, la_code).group_by(placements.c.fee_basis)
    out["fee_basis"] = {(k or "unknown"): v for k, v in (await session.execute(q)).all()}
    out["block"] = await _block_use(session, d0, d1, la_code)
    return out


async def _block_use(session: AsyncSession, d0: int, d1: int, la_code: str | None) -> dict:
    """Block contract use from what billing invoiced: the block lines (stream "block") of the range, the
    placements whose fee notice names a block contract, and the days of theirs invoiced above the block
    (fee lines on the block contract's invoices)."""
    block_ids = select(contract_lines.c.contract_id).where(contract_lines.c.stream == "block").distinct()
    if la_code:
        block_ids = block_ids.where(contract_lines.c.la_code == la_code)
    q = _la(select(func.count(func.distinct(contract_lines.c.contract_id)),
                   func.coalesce(func.sum(contract_lines.c.amount_pence), 0),
                   func.coalesce(func.sum(case((contract_lines.c.kind == "adjustment", 0),
                                               else_=contract_lines.c.days)), 0))
            .where(contract_lines.c.stream == "block", contract_lines.c.from_day <= d1, contract_lines.c.to_day >= d0),
            contract_lines.c.la_code, la_code)
    contracts, amount, days = (await session.execute(q)).one()
    q = _la(select(placements.c.placement_id).where(
        placements.c.start_day <= d1, or_(placements.c.end_day.is_(None), placements.c.end_day > d0),
        placements.c.contract_id.in_(block_ids)), placements.c.la_code, la_code)
    on_block = set((await session.execute(q)).scalars().all())
    start, end = date.fromordinal(d0), date.fromordinal(d1)
    q = _la(select(invoice_lines.c.placement_id, func.sum(invoice_lines.c.days)).where(
        invoice_lines.c.contract_id.in_(block_ids), invoice_lines.c.stream == "fee",
        invoice_lines.c.kind.in_(("charge", "late")), invoice_lines.c.from_date <= end,
        invoice_lines.c.to_date >= start), invoice_lines.c.la_code, la_code).group_by(invoice_lines.c.placement_id)
    above = dict((await session.execute(q)).all())
    return {"contracts": int(contracts or 0), "invoiced_pence": int(amount or 0), "invoiced_days": int(days or 0),
            "placements_on_block_contracts": len(on_block | set(above)),
            "placements_charged_above_block": len(above), "days_charged_above_block": int(sum(above.values()))}


def _pct(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (the same as Postgres percentile_cont)."""
    if not values:
        return None
    pos = (len(values) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (pos - lo)


# --- outreach -----------------------------------------------------------------------------------------
async def get_intervention(session: AsyncSession, intervention_id: str, *, for_update: bool = False) -> dict | None:
    stmt = select(interventions).where(interventions.c.intervention_id == intervention_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).mappings().first()
    return dict(row) if row else None


async def save_intervention(session: AsyncSession, intervention_id: str, values: dict) -> None:
    await _upsert(session, interventions, {"intervention_id": intervention_id}, values)


async def save_session(session: AsyncSession, row: dict) -> None:
    await save_new_rows(session, intervention_sessions, "session_id", [row])


async def save_follow_up(session: AsyncSession, intervention_id: str, checkpoint: str, values: dict) -> None:
    await _upsert(session, intervention_follow_ups, {"intervention_id": intervention_id, "checkpoint": checkpoint},
                  values)


async def save_outreach_lines(session: AsyncSession, rows: list[dict]) -> None:
    await save_new_rows(session, outreach_lines, "line_id", rows)


async def outreach_rows(session: AsyncSession, principal: Principal, start: date, end: date,
                        la_code: str | None) -> dict:
    """The interventions overlapping [start, end] the caller may read, with their follow-ups, their fees
    (every outreach line of theirs, adjustments included), their sessions and the child's referral facts."""
    stmt = readable(select(interventions), principal, interventions.c.la_code).where(
        or_(interventions.c.start_date.is_(None), interventions.c.start_date <= end),
        or_(interventions.c.end_date.is_(None), interventions.c.end_date >= start))
    if la_code:
        stmt = stmt.where(interventions.c.la_code == la_code)
    rows = [dict(r) for r in (await session.execute(stmt.order_by(interventions.c.start_date,
                                                                  interventions.c.intervention_id))).mappings()]
    ids = [r["intervention_id"] for r in rows]
    follow: dict[str, list[dict]] = {i: [] for i in ids}
    fees: dict[str, int] = {i: 0 for i in ids}
    sessions: dict[str, int] = {i: 0 for i in ids}
    refs: dict[str, dict] = {}
    for chunk in range(0, len(ids), 500):
        part = ids[chunk:chunk + 500]
        for r in (await session.execute(select(intervention_follow_ups).where(
                intervention_follow_ups.c.intervention_id.in_(part)))).mappings():
            follow[r["intervention_id"]].append(dict(r))
        for i, total in (await session.execute(select(outreach_lines.c.intervention_id,
                                                      func.sum(outreach_lines.c.amount_pence))
                                               .where(outreach_lines.c.intervention_id.in_(part))
                                               .group_by(outreach_lines.c.intervention_id))).all():
            fees[i] = int(total or 0)
        for i, n in (await session.execute(select(intervention_sessions.c.intervention_id, func.count())
                                           .where(intervention_sessions.c.intervention_id.in_(part))
                                           .group_by(intervention_sessions.c.intervention_id))).all():
            sessions[i] = int(n)
        referral_ids = list({r["referral_id"] for r in rows if r["intervention_id"] in part})
        for r in (await session.execute(select(referrals.c.referral_id, referrals.c.child_ref,
                                               referrals.c.handoff_from_placement_id)
                                        .where(referrals.c.referral_id.in_(referral_ids)))).mappings():
            refs[r["referral_id"]] = dict(r)
    # outreach retainers (a yearly fee for N interventions: lines of no one intervention), per council
    q = readable(select(contract_lines.c.la_code, func.sum(contract_lines.c.amount_pence)), principal,
                 contract_lines.c.la_code).where(contract_lines.c.stream == "outreach",
                                                 contract_lines.c.from_day <= end.toordinal(),
                                                 contract_lines.c.to_day >= start.toordinal())
    if la_code:
        q = q.where(contract_lines.c.la_code == la_code)
    retainers = {la: int(p or 0) for la, p in (await session.execute(q.group_by(contract_lines.c.la_code))).all()}
    return {"interventions": rows, "follow_ups": follow, "fees": fees, "sessions": sessions, "referrals": refs,
            "retainers": retainers}


async def outreach_setting(session: AsyncSession, la_code: str, *, for_update: bool = False) -> dict | None:
    stmt = select(outreach_settings).where(outreach_settings.c.la_code == la_code)
    if for_update:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).mappings().first()
    return dict(row) if row else None


async def outreach_settings_all(session: AsyncSession) -> dict[str, dict]:
    return {r["la_code"]: dict(r) for r in (await session.execute(select(outreach_settings))).mappings()}


async def save_outreach_setting(session: AsyncSession, la_code: str, values: dict) -> None:
    await _upsert(session, outreach_settings, {"la_code": la_code}, values)


async def insert_setting_change(session: AsyncSession, **values) -> None:
    await session.execute(outreach_setting_changes.insert().values(**values))


async def setting_changes(session: AsyncSession, la_code: str, limit: int = 50) -> list[dict]:
    return [dict(r) for r in (await session.execute(
        select(outreach_setting_changes).where(outreach_setting_changes.c.la_code == la_code)
        .order_by(outreach_setting_changes.c.version.desc()).limit(limit))).mappings()]


# --- restrictions of processing (decision 0006; libs.common.restrictions) ------------------------------------
async def restriction_marker(session: AsyncSession, principal: Principal, referral_id: str) -> dict | None:
    """The hub's marker of a restricted child (a council never gets here for one: readable_placement refused)."""
    return await restriction_rules.guard(session, restricted_children, principal, referral_id)


async def screen(session: AsyncSession, principal: Principal, rows: list[dict]):
    """A report's rows of children as the caller is served them: (rows, the hub's markers, omitted)."""
    return await restriction_rules.screen(session, restricted_children, principal, rows)
