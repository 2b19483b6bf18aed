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
from libs.common.councils import outside_own_council
from libs.common.errors import Missing, Stale
from libs.common.events.catalogue import DeadlineDueSoon, DeadlineMissed, OutcomeRecorded
from libs.common.events.outbox import UnitOfWork

from . import repository as repo
from .domain import measures as measures_domain
from .domain import outreach, progress, sdq, sufficiency, timepoints
from libs.common.geography import distance_km
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
                          needs, kind: str = "bed", handoff_from_placement_id: str | None = None) -> None:
    await repo.save_referral(uow.session, referral_id=referral_id, la_code=la_code, child_ref=child_ref,
                             home_outward_code=home_outward_code, urgency=urgency, received_at=received_at,
                             needs=needs, kind=kind, handoff_from_placement_id=handoff_from_placement_id)
    for p in await repo.placements_to_locate(uow.session, referral_id=referral_id):
        await _locate(uow.session, p)


async def record_home(uow: UnitOfWork, *, home_id: str, postcode_district: str | None, places: int) -> None:
    await repo.save_home(uow.session, home_id=home_id, postcode_district=postcode_district, places=places)
    for p in await repo.placements_to_locate(uow.session, home_id=home_id):
        await _locate(uow.session, p)


async def _locate(session: AsyncSession, p: dict) -> None:
    """Distance from the child's home district to the home's; outside their own council: the council the home's
    district lies in is not the council responsible for the child (libs.common.councils; unknown stays null)."""
    home = await repo.get_home(session, p["home_id"])
    if home is None:
        return
    referral = await repo.get_referral(session, p["referral_id"])
    a, b = (referral["home_outward_code"] if referral else None), home["postcode_district"]
    await repo.save_placement(session, p["placement_id"], dict(
        distance_km=distance_km(a, b), outside_area=outside_own_council(p["la_code"], b)))


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
    await _locate(uow.session, {"placement_id": placement_id, "referral_id": referral_id, "home_id": home_id,
                                "la_code": la_code})


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
    corrections = await repo.corrections_of(session, placement_id)
    return {"placement_id": placement_id, "referral_id": row["referral_id"], "home_id": row["home_id"],
            "la_code": row["la_code"], "start_date": row["start_date"], "end_date": row["end_date"],
            "restriction": await repo.restriction_marker(session, principal, row["referral_id"]),
            "points": _points_view(dict(row), rows, today),
            "measures": [_measure_view(m) for m in rows],
            "corrections": [{"timepoint": c["timepoint"], "group": c["measure_group"], "reason_code": c["reason_code"],
                             "corrected_by": c["corrected_by"], "corrected_at": c["corrected_at"],
                             "version": c["version"], "previous": c["previous"]} for c in corrections],
            "progress": progress.child_progress([m for m in rows if m["timepoint"] not in timepoints.FOLLOW_UPS])}


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
    if timepoint in timepoints.FOLLOW_UPS and (row["end_date"] is None or recorded_on <= row["end_date"]):
        raise OutcomeError("body.recorded_on", "after_the_end", "a follow-up is recorded after the placement ended")
    if recorded_on > today:
        raise OutcomeError("body.recorded_on", "not_in_future", "a measure is recorded when it was taken")
    if recorded_on < row["start_date"]:
        raise OutcomeError("body.recorded_on", "within_placement", "on or after the placement's start")
    values = _measure_values(body)
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
    await _emit_recorded(uow, row, placement_id, timepoint, recorded_on, values)
    return await outcomes_of(uow.session, principal, placement_id, today)


def _measure_values(body: dict) -> dict:
    """The measurement columns of the groups sent (the SDQ scored by the one core); bad input names the field."""
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
    return values


async def _emit_recorded(uow: UnitOfWork, row, placement_id: str, timepoint: str, recorded_on: date, values: dict,
                         correction_reason: str | None = None) -> None:
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
                                       referral_id=uuid.UUID(row["referral_id"]),
                                       correction=correction_reason is not None, correction_reason=correction_reason),
                       subject_id=placement_id, la_code=row["la_code"])


GROUP_COLUMNS = {"sdq": ("sdq_informant", "sdq_items", "sdq", "sdq_total"), "education": ("education",),
                 "health": ("health",), "stability": ("stability",)}


async def correct_measures(uow: UnitOfWork, principal: Principal, placement_id: str, timepoint: str, body: dict,
                           precondition, today: date, now: datetime) -> dict:
    """Correct measure groups recorded wrongly at a point: the corrected values supersede the recorded ones
    (the measurement's version goes up; If-Match names the version corrected), each group's previous values,
    who corrected it, when and why (a code) are kept in measure_corrections, and outcome.recorded is sent again
    for the corrected measures with correction=true (the latest event per placement, timepoint and measure
    stands). A group not yet recorded is recorded with POST .../measures, not corrected."""
    row = await repo.readable_placement(uow.session, principal, placement_id, for_update=True)
    if row is None:
        raise Missing("placement")
    existing = await repo.measurement_for_update(uow.session, placement_id, timepoint)
    if existing is None:
        raise Missing("measurement")
    if not precondition(existing["version"]):
        raise Stale(existing["version"], "measurement")
    values = _measure_values(body)
    for group in GROUP_COLUMNS:
        if group in values and existing[group] is None:
            raise OutcomeError(f"body.{group}", "not_recorded", f"{group} is not recorded at {timepoint}: record it "
                               "with POST /v1/outcomes/placements/{placement_id}/measures")
    version = existing["version"] + 1
    for group, columns in GROUP_COLUMNS.items():
        if group not in values:
            continue
        await repo.insert_correction(uow.session, id=str(uuid.uuid4()), measurement_id=existing["id"],
                                     placement_id=placement_id, timepoint=timepoint, measure_group=group,
                                     previous={c: existing[c] for c in columns},
                                     corrected={c: values.get(c) for c in columns},
                                     reason_code=body["reason_code"], corrected_by=principal.client_id,
                                     corrected_at=now, version=version)
    await repo.update_measurement(uow.session, existing["id"], {**values, "version": version, "updated_at": now})
    await _emit_recorded(uow, row, placement_id, timepoint, existing["recorded_on"], values, body["reason_code"])
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
    follow_ups = await repo.follow_ups_of_children(session, [refs[r["referral_id"]] for r in step_downs
                                                             if r["referral_id"] in refs])
    evidence = {r["placement_id"]: progress.step_down_evidence(r, measured.get(r["placement_id"], ()),
                                                               follow_ups.get(refs.get(r["referral_id"]), ()))
                for r in step_downs}
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        groups[{"home": r["home_id"], "council": r["la_code"], "hub": "hub"}[by]].append(r)
    return {"from": start, "to": end, "by": by,
            "groups": [{"group": k, **progress.cohort_figures(v, measured, later, start, end, today, evidence)}
                       for k, v in sorted(groups.items())],
            "all": progress.cohort_figures(rows, measured, later, start, end, today, evidence),
            "child_records": [r["referral_id"] for r in rows]}


# --- journeys ---------------------------------------------------------------------------------------------
async def invoice_issued(uow: UnitOfWork, *, invoice_id: str, la_code: str, period_end: date | None,
                         lines: list[dict], contract_id: str | None = None) -> None:
    """Keep what billing invoiced, never changed once kept: a child's lines (with the invoice's contract, for
    use above a block), a contract's own lines (no child: a block, for the sufficiency report's block use; an
    outreach retainer, the council's outreach fees) and outreach lines (an intervention's fees)."""
    outreach_lines = [l for l in lines if l.get("intervention_id")]
    await repo.save_outreach_lines(uow.session, [
        {k: l[k] for k in ("line_id", "intervention_id", "kind", "from_date", "to_date", "days", "amount_pence")}
        | {"invoice_id": invoice_id, "la_code": la_code} for l in outreach_lines])
    await repo.save_invoice_lines(uow.session, [
        {**{k: v for k, v in l.items() if k != "intervention_id"}, "invoice_id": invoice_id, "la_code": la_code,
         "period_end": period_end, "contract_id": contract_id}
        for l in lines if l["placement_id"] is not None and not l.get("intervention_id")])
    if contract_id:
        await repo.save_contract_lines(uow.session, [
            {"line_id": l["line_id"], "invoice_id": invoice_id, "contract_id": contract_id, "la_code": la_code,
             "kind": l["kind"], "stream": l["stream"], "from_day": l["from_date"].toordinal(),
             "to_day": l["to_date"].toordinal(), "days": l["days"], "weekly_pence": l["weekly_pence"],
             "amount_pence": l["amount_pence"]}
            for l in lines if l["placement_id"] is None and not l.get("intervention_id")
            and l["stream"] in ("block", "outreach")])   # a block, or an outreach retainer (no one child)


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
            "restriction": await repo.restriction_marker(session, principal, row["referral_id"]),
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



# --- outreach (issue 16) ------------------------------------------------------------------------------------
async def _intervention_council(uow: UnitOfWork, la_code: str | None, referral_id: str) -> str:
    if la_code:
        return la_code
    referral = await repo.get_referral(uow.session, referral_id)
    if referral is None:
        raise LookupError("an intervention event without a council, before its referral")  # retried, then parked
    return referral["la_code"]


async def intervention_started(uow: UnitOfWork, *, intervention_id: str, referral_id: str, la_code: str | None,
                               team_id: str, basis: str, planned_weeks: int, start_date: date,
                               current_setting: str | None) -> None:
    found = await repo.get_intervention(uow.session, intervention_id, for_update=True)
    values = dict(referral_id=referral_id, la_code=await _intervention_council(uow, la_code, referral_id),
                  team_id=team_id, basis=basis, planned_weeks=planned_weeks, start_date=start_date,
                  current_setting=current_setting)
    if found is None:
        values["status"] = "accepted"   # started at acceptance (assessment); active from status_changed
    else:
        values.pop("start_date")        # a later status change may have set the day it really began
    await repo.save_intervention(uow.session, intervention_id, values)


async def intervention_status(uow: UnitOfWork, *, intervention_id: str, status: str, effective_date: date) -> None:
    found = await repo.get_intervention(uow.session, intervention_id, for_update=True)
    if found is None:
        raise LookupError("intervention.status_changed before intervention.started")  # retried, then parked
    if found["status"] != "closed":
        day = {"active": "start_date", "closed": "end_date"}.get(status)
        await repo.save_intervention(uow.session, intervention_id, dict(
            status=status, **({day: effective_date} if day else {})))


async def intervention_session(uow: UnitOfWork, *, intervention_id: str, session_id: str, session_date: date,
                               minutes: int) -> None:
    await repo.save_session(uow.session, dict(session_id=session_id, intervention_id=intervention_id,
                                              session_date=session_date, minutes=minutes))


async def intervention_follow_up(uow: UnitOfWork, *, intervention_id: str, referral_id: str, la_code: str | None,
                                 checkpoint: str, due_date: date, held: bool, recorded_on: date,
                                 breakdown_date: date | None) -> None:
    await repo.save_follow_up(uow.session, intervention_id, checkpoint, dict(
        referral_id=referral_id, la_code=await _intervention_council(uow, la_code, referral_id), due_date=due_date,
        held=held, recorded_on=recorded_on, breakdown_date=breakdown_date))


async def intervention_closed(uow: UnitOfWork, *, intervention_id: str, referral_id: str, la_code: str | None,
                              team_id: str, start_date: date, end_date: date, outcome: str,
                              stabilised_on: date | None) -> None:
    found = await repo.get_intervention(uow.session, intervention_id, for_update=True)
    values = dict(status="closed", end_date=end_date, outcome=outcome, stabilised_on=stabilised_on)
    if found is None:  # the started event may be parked: the closing event carries what the report needs
        values.update(referral_id=referral_id, la_code=await _intervention_council(uow, la_code, referral_id),
                      team_id=team_id, start_date=start_date)
    await repo.save_intervention(uow.session, intervention_id, values)


async def _costs(session: AsyncSession) -> dict[str, int]:
    return {la: s["breakdown_cost_pence"] for la, s in (await repo.outreach_settings_all(session)).items()}


async def outreach_report(session: AsyncSession, principal: Principal, *, start: date, end: date,
                          la_code: str | None) -> dict:
    """A council's report is its own whatever it asks for; the hub may name a council or see every one."""
    if principal.is_council:
        la_code = principal.la_code
    rows = await repo.outreach_rows(session, principal, start, end, la_code)
    report = outreach.report(rows, await _costs(session), start, end, la_code)
    # a restricted child (decision 0006): still counted in the figures, its own row never shown to a council
    items, marks, omitted = await repo.screen(session, principal, report["interventions"])
    return {**report, "interventions": [{**i, "restriction": marks.get(i["referral_id"])} if marks else i
                                        for i in items], "restricted_omitted": omitted}


def _setting_view(la_code: str, row: dict | None, changes: list[dict]) -> dict:
    pence = row["breakdown_cost_pence"] if row else outreach.DEFAULT_BREAKDOWN_COST_PENCE
    return {"la_code": la_code, "breakdown_cost": outreach.pounds(pence), "breakdown_cost_pence": pence,
            "default": row is None, "default_breakdown_cost": outreach.pounds(outreach.DEFAULT_BREAKDOWN_COST_PENCE),
            "version": row["version"] if row else 0, "updated_by": row["updated_by"] if row else None,
            "updated_at": row["updated_at"] if row else None,
            "changes": [{"version": c["version"], "from": outreach.pounds(c["from_pence"]), "to": outreach.pounds(c["to_pence"]),
                         "changed_by": c["changed_by"], "changed_at": c["changed_at"]} for c in changes]}


def _setting_council(principal: Principal, la_code: str) -> None:
    if principal.is_council and principal.la_code != la_code:
        raise Missing("setting")


async def outreach_setting(session: AsyncSession, principal: Principal, la_code: str) -> dict:
    _setting_council(principal, la_code)
    return _setting_view(la_code, await repo.outreach_setting(session, la_code), await repo.setting_changes(session, la_code))


async def change_outreach_setting(uow: UnitOfWork, principal: Principal, la_code: str, body: dict, precondition,
                                  now: datetime) -> dict:
    """The council (its own) or the hub changes the assumed cost of a breakdown; If-Match names the version
    read (the default, never changed, is version 0). Every change is kept: who, when, from and to."""
    _setting_council(principal, la_code)
    if not (principal.is_council or principal.is_hub):
        raise Forbidden()
    pence = outreach.parse_cost(body.get("breakdown_cost"))
    row = await repo.outreach_setting(uow.session, la_code, for_update=True)
    version = row["version"] if row else 0
    if not precondition(version):
        raise Stale(version, "setting")
    if row is None or row["breakdown_cost_pence"] != pence:
        await repo.save_outreach_setting(uow.session, la_code, dict(breakdown_cost_pence=pence, version=version + 1,
                                                                    updated_by=principal.client_id, updated_at=now))
        await repo.insert_setting_change(uow.session, id=str(uuid.uuid4()), la_code=la_code,
                                         from_pence=row["breakdown_cost_pence"] if row else None, to_pence=pence,
                                         version=version + 1, changed_by=principal.client_id, changed_at=now)
    return _setting_view(la_code, await repo.outreach_setting(uow.session, la_code),
                         await repo.setting_changes(uow.session, la_code))


class Forbidden(Exception):
    """Only a council (its own setting) or the hub changes the assumed cost of a breakdown."""
