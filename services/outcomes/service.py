"""The outcomes service's application operations. Writes take a UnitOfWork and never commit; reads take a
session. Events out: outcome.recorded (one per measure, numbers and codes only), deadline.due_soon /
deadline.missed for measurement points (kind "measure")."""
from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.errors import Missing
from libs.common.events.catalogue import DeadlineDueSoon, DeadlineMissed, OutcomeRecorded
from libs.common.events.outbox import UnitOfWork

from . import repository as repo
from .domain import measures as measures_domain
from .domain import progress, sdq, sufficiency, timepoints
from libs.common.geography import distance_km, outside_area
from .domain.errors import OutcomeError
from .domain import journeys as journeys_domain
from .domain.journeys import money


class AlreadyRecorded(Exception):
    def __init__(self, group: str, timepoint: str):
        super().__init__(f"{group} is already recorded at {timepoint}")
        self.group, self.timepoint = group, timepoint


# --- read models from events ----------------------------------------------------------------------------
async def record_referral(uow: UnitOfWork, *, referral_id: str, la_code: str, child_ref: str,
                          home_outward_code: str | None, urgency: str | None, received_at: datetime,
                          needs) -> None:
    await repo.save_referral(uow.session, referral_id=referral_id, la_code=la_code, child_ref=child_ref,
                             home_outward_code=home_outward_code, urgency=urgency, received_at=received_at,
                             needs=needs)
    for p in await repo.placements_to_locate(uow.session, referral_id=referral_id):
        await _locate(uow.session, p)


async def record_home(uow: UnitOfWork, *, home_id: str, postcode_district: str | None, places: int) -> None:
    await repo.save_home(uow.session, home_id=home_id, postcode_district=postcode_district, places=places)
    for p in await repo.placements_to_locate(uow.session, home_id=home_id):
        await _locate(uow.session, p)


async def _locate(session: AsyncSession, p: dict) -> None:
    referral = await repo.get_referral(session, p["referral_id"])
    home = await repo.get_home(session, p["home_id"])
    if referral is None or home is None:
        return
    a, b = referral["home_outward_code"], home["postcode_district"]
    await repo.save_placement(session, p["placement_id"], dict(distance_km=distance_km(a, b),
                                                               outside_area=outside_area(a, b)))


async def record_decision(uow: UnitOfWork, *, admission_id: str, referral_id: str, la_code: str, decision: str,
                          reason_code: str | None, home_id: str | None, decided_at: datetime) -> None:
    referral = await repo.get_referral(uow.session, referral_id)
    await repo.save_decision(uow.session, admission_id=admission_id, referral_id=referral_id, la_code=la_code,
                             decision=decision, reason_code=reason_code, home_id=home_id,
                             decided_day=decided_at.date().toordinal(), decided_hours=repo.hours(decided_at),
                             received_hours=referral["received_hours"] if referral else None)


async def record_assessment(uow: UnitOfWork, *, referral_id: str, la_code: str, considered: int, ranked: int,
                            assessed_on: date) -> None:
    await repo.save_assessment(uow.session, referral_id=referral_id, la_code=la_code, homes_considered=considered,
                               homes_ranked=ranked, assessed_day=assessed_on.toordinal())


async def placement_started(uow: UnitOfWork, *, placement_id: str, referral_id: str, la_code: str, home_id: str,
                            start_date: date) -> None:
    referral = await repo.get_referral(uow.session, referral_id)
    fee = await repo.latest_fee(uow.session, referral_id)
    await repo.save_placement(uow.session, placement_id, dict(
        referral_id=referral_id, la_code=la_code, home_id=home_id, start_date=start_date,
        start_day=start_date.toordinal(), received_day=referral["received_day"] if referral else None,
        fee_basis=fee["basis"] if fee else None, contract_id=fee["contract_id"] if fee else None))
    await _locate(uow.session, {"placement_id": placement_id, "referral_id": referral_id, "home_id": home_id})


async def placement_ended(uow: UnitOfWork, *, placement_id: str, end_date: date, planned: bool, ending_type: str,
                          destination: str | None) -> None:
    if await repo.get_placement_row(uow.session, placement_id) is None:
        raise LookupError("placement.ended before placement.started")  # retried, then parked
    await repo.save_placement(uow.session, placement_id, dict(end_date=end_date, end_day=end_date.toordinal(),
                                                              planned=planned, ending_type=ending_type,
                                                              destination=destination))


async def fee_applied(uow: UnitOfWork, *, referral_id: str, la_code: str, sequence: int, placement_id: str | None,
                      contract_id: str | None, weekly_pence: int | None, basis: str,
                      effective_date: date | None) -> None:
    await repo.save_fee_notice(uow.session, referral_id=referral_id, sequence=sequence, la_code=la_code,
                               placement_id=placement_id, contract_id=contract_id, weekly_pence=weekly_pence,
                               basis=basis, effective_date=effective_date)
    latest = await repo.latest_fee(uow.session, referral_id)
    await repo.set_fee_basis(uow.session, referral_id, latest["basis"], latest["contract_id"])


# --- measures -------------------------------------------------------------------------------------------
def score_sdq(informant: str, items: dict, impact: dict | None) -> dict:
    parsed = sdq.parse_items(items)
    imp = sdq.parse_impact(informant, impact)
    return sdq.score(informant, parsed, imp).as_dict(with_impact=impact is not None)


def _points_view(row: dict, rows: list[dict], today: date) -> list[dict]:
    by_point = {r["timepoint"]: r for r in rows}
    out = []
    for name, due in timepoints.points(row["start_date"], row["end_date"], today):
        m = by_point.get(name)
        recorded = [g for g in timepoints.MEASURES if m and m.get(g)]
        missing = [g for g in timepoints.MEASURES if g not in recorded]
        out.append({"timepoint": name, "due_date": due, "recorded": recorded, "missing": missing,
                    "state": timepoints.state(due, not missing, today)})
    return out


def _measure_view(m: dict) -> dict:
    return {"timepoint": m["timepoint"], "recorded_on": m["recorded_on"],
            "sdq": None if m["sdq"] is None else {"informant": m["sdq_informant"], **m["sdq"],
                                                  "items": m["sdq_items"]},
            "education": m["education"], "health": m["health"], "stability": m["stability"],
            "version": m["version"]}


async def outcomes_of(session: AsyncSession, principal: Principal, placement_id: str, today: date) -> dict:
    row = await repo.readable_placement(session, principal, placement_id)
    if row is None:
        raise Missing("placement")
    rows = (await repo.measurements_of(session, [placement_id]))[placement_id]
    return {"placement_id": placement_id, "referral_id": row["referral_id"], "home_id": row["home_id"],
            "la_code": row["la_code"], "start_date": row["start_date"], "end_date": row["end_date"],
            "points": _points_view(dict(row), rows, today),
            "measures": [_measure_view(m) for m in rows],
            "progress": progress.child_progress(rows)}


async def record_measures(uow: UnitOfWork, principal: Principal, placement_id: str, body: dict, today: date,
                          now: datetime) -> dict:
    row = await repo.readable_placement(uow.session, principal, placement_id, for_update=True)
    if row is None:
        raise Missing("placement")
    timepoint = body["timepoint"]
    if not timepoints.timepoint_names_valid(timepoint):
        raise OutcomeError("body.timepoint", "timepoint", "baseline, day_28, day_90, six_monthly_N or ending")
    if timepoint == "ending" and row["end_date"] is None:
        raise OutcomeError("body.timepoint", "placement_not_ended", "the ending point follows the placement's end")
    recorded_on: date = body["recorded_on"]
    if recorded_on > today:
        raise OutcomeError("body.recorded_on", "not_in_future", "a measure is recorded when it was taken")
    if recorded_on < row["start_date"]:
        raise OutcomeError("body.recorded_on", "within_placement", "on or after the placement's start")
    values: dict = {}
    if body.get("sdq") is not None:
        raw = body["sdq"]
        scored = score_sdq(raw["informant"], raw["items"], raw.get("impact"))
        if scored["total_difficulties"] is None:
            raise OutcomeError("body.sdq.items", "sdq_too_many_missing",
                               "too many items are missing to score the total difficulties (a scale needs 3 of "
                               "its 5 items)")
        values.update(sdq_informant=raw["informant"], sdq_items={str(k): v for k, v in raw["items"].items()},
                      sdq=scored, sdq_total=scored["total_difficulties"])
    for group in ("education", "health", "stability"):
        parsed = measures_domain.parse_group(group, body.get(group), f"body.{group}")
        if parsed is not None:
            values[group] = parsed
    if not values:
        raise OutcomeError("body", "measures_required", "at least one of sdq, education, health, stability")
    existing = await repo.measurement_for_update(uow.session, placement_id, timepoint)
    if existing is None:
        mid = str(uuid.uuid4())
        await repo.insert_measurement(uow.session, id=mid, placement_id=placement_id, timepoint=timepoint,
                                      recorded_on=recorded_on, version=1, updated_at=now, **values)
    else:
        mid = existing["id"]
        for group in ("sdq", "education", "health", "stability"):
            if group in values and existing[group] is not None:
                raise AlreadyRecorded(group, timepoint)
        await repo.update_measurement(uow.session, mid, {**values, "version": existing["version"] + 1,
                                                        "updated_at": now})
    # outcome.recorded: one event per scored measure; codes and numbers only (booleans as 0/1)
    emitted = []
    if "sdq" in values:
        emitted.append(("sdq_total", values["sdq_total"]))
        for scale, v in values["sdq"]["scales"].items():
            emitted.append((f"sdq_{scale}", v))
    for group in ("education", "health", "stability"):
        for k, v in (values.get(group) or {}).items():
            if isinstance(v, bool):
                emitted.append((f"{group}.{k}", int(v)))
            elif isinstance(v, (int, float)):
                emitted.append((f"{group}.{k}", int(round(v))))
            else:
                emitted.append((f"{group}.{k}", None))
    for measure, value in emitted:
        await uow.emit(OutcomeRecorded(outcome_id=uuid.uuid4(), placement_id=uuid.UUID(placement_id), measure=measure,
                                       timepoint=timepoint, value=value, recorded_on=recorded_on,
                                       referral_id=uuid.UUID(row["referral_id"])),
                       subject_id=placement_id, la_code=row["la_code"])
    return await outcomes_of(uow.session, principal, placement_id, today)


# --- measure deadlines ------------------------------------------------------------------------------------
async def open_measure_deadlines(session: AsyncSession, today: date) -> list[dict]:
    rows = await repo.running_or_recently_ended(session, today)
    measured = await repo.measurements_of(session, [r["placement_id"] for r in rows])
    out = []
    for r in rows:
        for point in _points_view(dict(r), measured[r["placement_id"]], today):
            if point["state"] in ("due_soon", "overdue"):
                out.append({"deadline_key": timepoints.deadline_key(r["placement_id"], point["timepoint"]),
                            "placement_id": r["placement_id"], "home_id": r["home_id"], "la_code": r["la_code"],
                            "item": point["timepoint"], "due_date": point["due_date"], "state": point["state"]})
    return out


async def notify_deadline(uow: UnitOfWork, deadline: dict, notice: str, now: datetime) -> None:
    model = DeadlineDueSoon if notice == "due_soon" else DeadlineMissed
    await repo.insert_notice(uow.session, deadline["deadline_key"], notice, now)
    await uow.emit(model(deadline_key=deadline["deadline_key"], placement_id=deadline["placement_id"],
                         home_id=deadline["home_id"], kind="measure", item=deadline["item"],
                         due_date=deadline["due_date"]),
                   subject_id=deadline["placement_id"], la_code=deadline["la_code"])


# --- cohorts ----------------------------------------------------------------------------------------------
async def cohort_report(session: AsyncSession, principal: Principal, *, start: date, end: date, by: str,
                        la_code: str | None, home_id: str | None, today: date) -> dict:
    rows = [dict(r) for r in await repo.cohort_placements(session, principal, start, end, la_code=la_code,
                                                          home_id=home_id)]
    measured = await repo.measurements_of(session, [r["placement_id"] for r in rows])
    refs = await repo.child_refs(session, [r["referral_id"] for r in rows])
    step_downs = [r for r in rows if r["end_date"] and r["planned"] and r["ending_type"] == "step_down"]
    later_days = await repo.later_referral_days(session, [refs[r["referral_id"]] for r in step_downs
                                                          if r["referral_id"] in refs])
    later = {r["placement_id"]: later_days.get(refs.get(r["referral_id"]), []) for r in step_downs}
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        groups[{"home": r["home_id"], "council": r["la_code"], "hub": "hub"}[by]].append(r)
    return {"from": start, "to": end, "by": by,
            "groups": [{"group": k, **progress.cohort_figures(v, measured, later, start, end, today)}
                       for k, v in sorted(groups.items())],
            "all": progress.cohort_figures(rows, measured, later, start, end, today),
            "child_records": [r["referral_id"] for r in rows]}


# --- journeys ---------------------------------------------------------------------------------------------
async def invoice_issued(uow: UnitOfWork, *, invoice_id: str, la_code: str, period_end: date | None,
                         lines: list[dict]) -> None:
    """Keep a child's invoice lines (block lines name no child and are not kept); never changed once kept."""
    await repo.save_invoice_lines(uow.session, [
        {**l, "invoice_id": invoice_id, "la_code": la_code, "period_end": period_end}
        for l in lines if l["placement_id"] is not None])


ESTIMATE = "estimate: not yet invoiced"


def _fee_segments(row, notices: list[dict], start: date, stop: date) -> list[dict]:
    """The weekly fees billing applied (placement.fee_applied) over [start, stop): one segment per fee, from its
    effective date to the next one. An estimate: only the invoice lines say what a day cost."""
    spans: list[tuple[date, dict]] = []
    for n in notices:
        eff = max(n["effective_date"], row["start_date"])
        spans = [s for s in spans if s[0] < eff]  # a later notice replaces what it covers from its date
        spans.append((eff, n))
    segments = []
    for i, (eff, n) in enumerate(spans):
        until = min(spans[i + 1][0] if i + 1 < len(spans) else stop, stop)
        eff = max(eff, start)
        days = (until - eff).days
        if days <= 0:
            continue
        weekly = n["weekly_pence"]
        segments.append({"setting": f"ITP Pathway Bed ({n['basis']}, {ESTIMATE})", "length": days, "unit": "day",
                         "rate": None if weekly is None else money(Decimal(weekly) / 100), "rate_per": "week",
                         "stated_total": None, "source": "estimate", "from": eff, "to": until - timedelta(days=1)})
    return segments


async def actual_journey(session: AsyncSession, principal: Principal, placement_id: str, today: date) -> dict:
    """The child's journey inside the service as segments for /v1/journeys/compare: what billing invoiced
    (invoice.issued's lines, adjustments included, so it always equals what was invoiced), then, for the days
    not yet invoiced, an estimate from the weekly fees billing applied (placement.fee_applied)."""
    row = await repo.readable_placement(session, principal, placement_id)
    if row is None:
        raise Missing("placement")
    invoiced = journeys_domain.invoiced_segments(await repo.invoice_lines_of(session, placement_id))
    notices = [n for n in await repo.fee_history(session, row["referral_id"]) if n["effective_date"] is not None]
    stop = row["end_date"] or today
    est_from = invoiced["through"] + timedelta(days=1) if invoiced["through"] else row["start_date"]
    estimate = _fee_segments(row, notices, est_from, stop)
    est_days = sum(s["length"] for s in estimate)
    return {"placement_id": placement_id, "referral_id": row["referral_id"],
            "segments": invoiced["segments"] + estimate,
            "invoiced": {"total": invoiced["total"], "lines": invoiced["lines"],
                         "adjustments": invoiced["adjustments"], "through": invoiced["through"],
                         "unattached_credits": invoiced["unattached"]},
            "estimate": {"label": ESTIMATE, "from": est_from if est_days else None,
                         "to": estimate[-1]["to"] if estimate else None, "days": est_days},
            "unpriced_days": sum(s["length"] for s in estimate if s["rate"] is None)}


async def compare_placement(session: AsyncSession, principal: Principal, placement_id: str, body: dict,
                            today: date) -> dict:
    """The council's whole journey (its placements before, the child's journey inside the service, its
    placements after) against the pathway's alternative, costed by the one journey core. Unpriced estimate
    days cannot be costed: they are left out and counted in `unpriced_days`."""
    for name in ("before", "after"):
        raw = body.get(name) or []
        if len(raw) > 200:
            raise OutcomeError(f"body.{name}", "too_many_segments", "at most 200 segments")
        for i, seg in enumerate(raw):
            journeys_domain.parse_segment(seg, f"body.{name}.{i}")
    view = await actual_journey(session, principal, placement_id, today)
    inside = [s for s in view["segments"] if s["rate"] is not None]
    before, after = body.get("before") or [], body.get("after") or []
    result = journeys_domain.compare({"weeks_per_month": body.get("weeks_per_month", 4),
                                      "actual": before + inside + after, "alternative": body.get("alternative")})
    return {"placement_id": placement_id, "referral_id": view["referral_id"],
            "inside_service": {"first_line": len(before) + 1, "last_line": len(before) + len(inside),
                               "invoiced": view["invoiced"], "estimate": view["estimate"]},
            "unpriced_days": view["unpriced_days"], **result}


# --- sufficiency ------------------------------------------------------------------------------------------
async def sufficiency_report(session: AsyncSession, principal: Principal, *, start: date, end: date,
                             la_code: str | None, is_postgres: bool) -> dict:
    """A council's report is its own whatever it asks for; the hub may name a council or see England."""
    council_view = principal.is_council
    if council_view:
        la_code = principal.la_code
    rows = await repo.sufficiency_rows(session, start, end, la_code, is_postgres)
    return sufficiency.shape(rows, start, end, la_code, council_view)
