"""The assessment service's operations. Each change takes the caller's unit of work, changes state
through the repository and emits its events into the same transaction (the outbox); none commits: whoever
opened the unit of work does (libs.common.http.write for a route, the consumer for an event, the job for
a periodic sweep), so that the Idempotency-Key row or the inbox row joins the same transaction.
Reads take a session. HTTP concerns stay in api/, SQL in repository.py, the rules in domain/."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from libs.common.ages import age_on
from libs.common.auth import Principal
from libs.common.events.catalogue import (AdmissionAccepted, DeadlineDueSoon, DeadlineMissed, InterventionClosed,
                                          InterventionFollowUpRecorded, InterventionSessionLogged,
                                          InterventionStarted, InterventionStatusChanged, OutreachAccepted,
                                          OutreachHandoff, PathwayPlanIssued, PhaseTransitioned, PlacementEnded,
                                          PlacementLegalStatusChanged, PlacementStarted, ReviewCompleted)
from libs.common.ids import intervention_id_for
from libs.common.deadlines import deadline_state
from libs.common.events.outbox import UnitOfWork
from libs.common.councils import dfe_la_number
from libs.common.vocabulary import council_name
from libs.common.weekly_fees import weekly_fee_view
from libs.common.errors import Missing, Stale

from . import repository as repo
from .domain.ending import PLANNED, EndingType, InvalidEnding, check_ending
from .domain.placement import IllegalMove, InvalidDate, Move, Status, allowed_moves
from .domain import ssda903
from .domain.plan import check_ready, empty_sections
from .domain.intervention import IllegalMove as IllegalInterventionMove
from .domain.intervention import Intervention, default_plan, follow_ups_due
from .domain.intervention import Plan as IPlan
from .domain.intervention import Status as IStatus
from .domain.intervention import allowed_moves as allowed_intervention_moves
from .domain.schedule import FOUNDATION_TASKS, plan_due, review_due, review_kind, task_due






class PlanConflict(Exception):
    """A plan move that its state does not allow (for example a second issue of the Initial Pathway Plan)."""

    def __init__(self, detail: str, **extra):
        super().__init__(detail)
        self.extra = extra


async def _placement(uow: UnitOfWork, principal: Principal, placement_id: str) -> dict:
    row = await repo.get_placement(uow.session, principal, placement_id, for_update=True)
    if row is None:
        raise Missing("placement")
    return row


def _subject(row: dict) -> dict:
    return {"subject_id": row["id"], "la_code": row["la_code"]}


async def arrive(uow: UnitOfWork, principal: Principal, placement_id: str, *, arrival_date: date,
                 key_worker: str | None, therapeutic_lead: str | None, today: date, now: datetime,
                 reason_new_episode: str | None = None) -> dict:
    """The child arrived: Phase 1 starts (day 1), its foundation tasks, the plan draft and the 90-day
    review are scheduled; placement.started and phase.transitioned (to phase_1) are emitted."""
    row = await _placement(uow, principal, placement_id)
    child = (await repo.children_of(uow.session, [row["referral_id"]])).get(row["referral_id"]) or {}
    p = repo.to_domain(row).arrive(arrival_date, today, born=child.get("date_of_birth"))
    values = repo.from_domain(p)
    values["transitions"] = row["transitions"] + [_audit(None, "phase_1", arrival_date, None, False, principal, now)]
    if key_worker:
        values["key_worker"] = key_worker
    if therapeutic_lead:
        values["therapeutic_lead"] = therapeutic_lead
    values["reason_new_episode"] = reason_new_episode or "P"
    new = await repo.save(uow.session, row, values, now)
    rows = []
    for task in FOUNDATION_TASKS:
        done = task.code == "key_worker_assigned" and bool(new["key_worker"])
        rows.append(dict(placement_id=row["id"], code=task.code, due_date=task_due(arrival_date, task),
                         owner=task.owner, done_on=arrival_date if done else None,
                         done_by=principal.client_id if done else None))
    await repo.insert_tasks(uow.session, rows)
    await repo.insert_plan(uow.session, id=str(uuid.uuid4()), placement_id=row["id"], la_code=row["la_code"],
                           sections=empty_sections(), version=1, issued_version=0, due_date=plan_due(arrival_date),
                           issued_on=None, updated_at=now)
    await _schedule_review(uow, new, 1)
    await uow.emit(PlacementStarted(placement_id=row["id"], referral_id=row["referral_id"], home_id=row["home_id"],
                                    bed_id=row["bed_id"], start_date=arrival_date), **_subject(row))
    await uow.emit(PhaseTransitioned(placement_id=row["id"], from_phase=None, to_phase="phase_1",
                                     effective_date=arrival_date, phase_ends_on=new["phase_1_end"]),
                   **_subject(row))
    return new


def _audit(from_phase, to_phase, effective: date, reason, backdated: bool, principal: Principal, now) -> dict:
    return {"from_phase": from_phase, "to_phase": to_phase, "effective_date": effective.isoformat(),
            "reason": reason, "backdated": backdated, "by": principal.client_id, "at": now.isoformat()}


async def _schedule_review(uow: UnitOfWork, placement: dict, number: int) -> None:
    await repo.insert_review(uow.session, id=str(uuid.uuid4()), placement_id=placement["id"],
                             la_code=placement["la_code"], number=number, kind=review_kind(number),
                             due_date=review_due(placement["arrival_date"], number))


async def extend_phase_1(uow: UnitOfWork, principal: Principal, placement_id: str, *, new_end_date: date,
                         reason: str, now: datetime) -> dict:
    """Phase 1 runs on to a later last day: kept in the placement's audit of transitions and sent as
    phase.transitioned phase_1 -> phase_1 from the day after the old end (billing keeps the Phase 1 rate)."""
    row = await _placement(uow, principal, placement_id)
    before = repo.to_domain(row)
    p = before.extend_phase_1(new_end_date, reason)
    values = repo.from_domain(p)
    effective = before.phase_1_end + timedelta(days=1)
    values["transitions"] = row["transitions"] + [
        {**_audit("phase_1", "phase_1", effective, p.extensions[-1].reason, False, principal, now),
         "phase_ends_on": new_end_date.isoformat()}]
    new = await repo.save(uow.session, row, values, now)
    await uow.emit(PhaseTransitioned(placement_id=row["id"], from_phase="phase_1", to_phase="phase_1",
                                     effective_date=effective, reason=p.extensions[-1].reason,
                                     phase_ends_on=new_end_date), **_subject(row))
    return new


async def transition_to_phase_2(uow: UnitOfWork, principal: Principal, placement_id: str, *, effective_date: date,
                                reason: str | None, today: date, now: datetime) -> dict:
    """Phase 2 from the effective date (billing splits its charge there); a back-dated move is
    allowed with a reason and kept in the placement's audit of transitions."""
    row = await _placement(uow, principal, placement_id)
    plan = await repo.plan_of(uow.session, row["id"])
    issued = plan is not None and plan["issued_version"] >= 1
    p, backdated = repo.to_domain(row).transition_to_phase_2(effective_date, today, reason, plan_issued=issued)
    values = repo.from_domain(p)
    values["transitions"] = row["transitions"] + [
        _audit("phase_1", "phase_2", effective_date, reason, backdated, principal, now)]
    new = await repo.save(uow.session, row, values, now)
    await uow.emit(PhaseTransitioned(placement_id=row["id"], from_phase="phase_1", to_phase="phase_2",
                                     effective_date=effective_date, reason=reason, backdated=backdated),
                   **_subject(row))
    return new


async def complete_task(uow: UnitOfWork, principal: Principal, placement_id: str, code: str, *, done_on: date,
                        owner: str | None, today: date) -> tuple[dict, dict]:
    """The task done (again: unchanged) and its placement."""
    row = await _placement(uow, principal, placement_id)
    task = await repo.task_for_update(uow.session, row["id"], code)
    if task is None:
        raise Missing("task")
    if task["done_on"] is not None:
        return task, row
    if done_on > today or done_on < row["arrival_date"]:
        raise InvalidDate("done_on", "a task is done between the arrival and today")
    values = {"done_on": done_on, "done_by": principal.client_id}
    if owner:
        values["owner"] = owner
    await repo.update_task(uow.session, row["id"], code, values)
    return {**task, **values}, row


async def edit_plan(uow: UnitOfWork, principal: Principal, plan_id: str, sections: dict[str, str],
                    precondition, now: datetime) -> tuple[dict, dict]:
    """The working copy's sections changed (the rest kept), checked against If-Match under the row lock;
    the same sections again change nothing. Answers the plan and its placement."""
    plan, placement = await repo.get_plan(uow.session, principal, plan_id, for_update=True)
    if plan is None:
        raise Missing("plan")
    if placement["status"] == Status.ended.value:
        raise PlanConflict("The placement has ended: its plan no longer changes.", current_status="ended")
    merged = {**plan["sections"], **sections}
    if merged == plan["sections"]:
        return plan, placement
    if not precondition(plan["version"]):
        raise Stale(plan["version"], "plan")
    new = await repo.save_plan_sections(uow.session, plan, merged, now)
    if new is None:
        raise Stale(plan["version"] + 1, "plan")
    return new, placement


async def _issue_version(uow: UnitOfWork, plan: dict, placement: dict, *, source: str, review_id: str | None,
                         issued_on: date, principal: Principal, now: datetime) -> int:
    version = plan["issued_version"] + 1
    await repo.insert_plan_version(uow.session, plan_id=plan["id"], version=version, sections=plan["sections"],
                                   source=source, review_id=review_id, issued_on=issued_on, issued_at=now,
                                   issued_by=principal.client_id)
    values = {"issued_version": version}
    if version == 1:
        values["issued_on"] = issued_on
    await repo.set_issued(uow.session, plan["id"], values)
    await uow.emit(PathwayPlanIssued(plan_id=plan["id"], placement_id=placement["id"], version=version, issued_at=now),
                   **_subject(placement))
    return version


async def issue_plan(uow: UnitOfWork, principal: Principal, plan_id: str, *, precondition, today: date,
                     issued_on: date, now: datetime) -> tuple[dict, dict]:
    """Issue the Initial Pathway Plan to the council as version 1 (every section written); answers the
    plan and its placement."""
    plan, placement = await repo.get_plan(uow.session, principal, plan_id, for_update=True)
    if plan is None:
        raise Missing("plan")
    if plan["issued_version"] >= 1:
        raise PlanConflict("The Initial Pathway Plan is already issued; a new version comes from a review.",
                           current_status="issued", allowed_moves=["complete_review"])
    if placement["status"] == Status.ended.value:
        raise PlanConflict("The placement has ended.", current_status="ended", allowed_moves=[])
    if precondition is not None and not precondition(plan["version"]):
        raise Stale(plan["version"], "plan")
    if issued_on > today or issued_on < placement["arrival_date"]:
        raise InvalidDate("issued_on", "a plan is issued between the arrival and today")
    check_ready(plan["sections"])
    await _issue_version(uow, plan, placement, source="initial", review_id=None, issued_on=issued_on,
                         principal=principal, now=now)
    return {**plan, "issued_version": 1, "issued_on": issued_on}, placement


async def complete_review(uow: UnitOfWork, principal: Principal, review_id: str, *, completed_on: date,
                          attendees: list[str], findings: str, sections: dict[str, str], today: date,
                          now: datetime) -> tuple[dict, dict]:
    """A completed review issues a new plan version and schedules the next review (6 months on); answers
    the review and its placement."""
    review, placement = await repo.get_review(uow.session, principal, review_id, for_update=True)
    if review is None:
        raise Missing("review")
    if review["completed_on"] is not None:
        raise PlanConflict("The review is already completed.", current_status="completed", allowed_moves=[])
    if placement["status"] == Status.ended.value:
        raise PlanConflict("The placement has ended.", current_status="ended", allowed_moves=[])
    plan = await repo.plan_of(uow.session, placement["id"])
    if plan["issued_version"] < 1:
        raise PlanConflict("A review revises an issued plan: issue the Initial Pathway Plan first.",
                           current_status="draft", allowed_moves=["issue_plan"])
    if completed_on > today or completed_on < placement["arrival_date"]:
        raise InvalidDate("completed_on", "a review is completed between the arrival and today")
    if sections:
        # the placement's row lock (taken with the review) serialises this with a plan edit
        plan = await repo.save_plan_sections(uow.session, plan, {**plan["sections"], **sections}, now)
        if plan is None:
            raise RuntimeError("the plan changed meanwhile")
    version = await _issue_version(uow, plan, placement, source="review", review_id=review["id"],
                                   issued_on=completed_on, principal=principal, now=now)
    values = dict(completed_on=completed_on, attendees=attendees, findings=findings, plan_version=version)
    await repo.update_review(uow.session, review["id"], values)
    await _schedule_review(uow, placement, review["number"] + 1)
    await uow.emit(ReviewCompleted(review_id=review["id"], placement_id=placement["id"], kind=review["kind"],
                                   completed_on=completed_on, plan_version=version), **_subject(placement))
    return {**review, **values}, placement


async def plan_step_down(uow: UnitOfWork, principal: Principal, placement_id: str, *, destination: str,
                         target_date: date, readiness_notes: str | None, now: datetime) -> dict:
    """Step-down planning starts with Phase 2."""
    row = await _placement(uow, principal, placement_id)
    if row["status"] != Status.phase_2.value:
        raise PlanConflict("Step-down planning starts with Phase 2.", current_status=row["status"],
                           allowed_moves=allowed_moves(row["status"]))
    phase_2_start = date.fromisoformat(row["history"][-1]["start"])
    if target_date <= phase_2_start:
        raise InvalidDate("target_date", "the target date is after the start of Phase 2")
    plan = {"destination": destination, "target_date": target_date.isoformat(), "readiness_notes": readiness_notes,
            "updated_at": now.isoformat(), "updated_by": principal.client_id}
    if row["step_down"] and {k: row["step_down"].get(k) for k in ("destination", "target_date", "readiness_notes")} \
            == {k: plan[k] for k in ("destination", "target_date", "readiness_notes")}:
        return row
    return await repo.save(uow.session, row, {"step_down": plan}, now)


async def end(uow: UnitOfWork, principal: Principal, placement_id: str, *, end_date: date, ending_type: str,
              destination: str | None, reason_code: str, notes: str | None, today: date, now: datetime,
              reason_place_change: str | None = None, outreach_handoff: dict | None = None) -> dict:
    """End the placement (planned step-down or unplanned) and emit placement.ended: matching frees the
    bed, which becomes the home's next Pathway Bed. The codes follow the DfE's rules for a children's home,
    checked against the child's age on the end date when the child's facts are known."""
    row = await _placement(uow, principal, placement_id)
    child = (await repo.children_of(uow.session, [row["referral_id"]])).get(row["referral_id"])
    age = age_on(child["date_of_birth"], end_date) if child else None
    check_ending(ending_type, destination, reason_code, reason_place_change, age=age)
    planned = EndingType(ending_type) in PLANNED
    if planned and row["status"] == Status.phase_1.value:
        raise IllegalMove(Status(row["status"]), Move.end, "a planned step-down comes in Phase 2; "
                                                          "in Phase 1 an ending is unplanned")
    if end_date > today:
        raise InvalidDate("end_date", "an ending is recorded when it has happened: not in the future")
    if outreach_handoff is not None and not planned:
        raise InvalidEnding("outreach_handoff", "step_down_only",
                            "a hand-off to the outreach team comes with a planned step-down")
    p = repo.to_domain(row).end(end_date)
    values = repo.from_domain(p)
    values["ending"] = {"type": ending_type, "planned": planned, "destination": destination,
                        "reason_code": reason_code, "reason_place_change": reason_place_change, "notes": notes,
                        "recorded_by": principal.client_id,
                        "recorded_at": now.isoformat(), "outreach_handoff": outreach_handoff}
    new = await repo.save(uow.session, row, values, now)
    await uow.emit(PlacementEnded(placement_id=row["id"], home_id=row["home_id"], bed_id=row["bed_id"],
                                  end_date=end_date, planned=planned, ending_type=ending_type,
                                  reason_code=reason_code, destination=destination,
                                  reason_place_change=reason_place_change,
                                  outreach_handoff=None if outreach_handoff is None
                                  else OutreachHandoff(**outreach_handoff)), **_subject(row))
    return new


# --- legal status and the SSDA903 episodes --------------------------------------------------------------
async def change_legal_status(uow: UnitOfWork, principal: Principal, placement_id: str, *, legal_status: str,
                              effective_date: date, today: date, now: datetime) -> dict:
    """Record the child's new legal status from the day it takes effect (a new SSDA903 episode, RNE L) and
    emit placement.legal_status_changed. The same change again changes nothing."""
    row = await _placement(uow, principal, placement_id)
    changes = list(row.get("legal_statuses") or [])
    if any(c["legal_status"] == legal_status and c["effective_date"] == effective_date.isoformat() for c in changes):
        return row
    child = (await repo.children_of(uow.session, [row["referral_id"]])).get(row["referral_id"]) or {}
    history = ssda903.legal_status_history(child.get("legal_status"), row["arrival_date"], changes)
    ssda903.check_legal_status_change(history, legal_status, effective_date, arrival=row["arrival_date"],
                                      end_date=row["end_date"], today=today)
    previous = [h for h in history if h.effective_date <= effective_date][-1].legal_status if history else None
    changes.append({"legal_status": legal_status, "effective_date": effective_date.isoformat(),
                    "recorded_by": principal.client_id, "recorded_at": now.isoformat()})
    new = await repo.save(uow.session, row, {"legal_statuses": changes}, now)
    await uow.emit(PlacementLegalStatusChanged(placement_id=row["id"], referral_id=row["referral_id"],
                                               legal_status=legal_status, previous_legal_status=previous,
                                               effective_date=effective_date), **_subject(row))
    return new


async def child_facts(uow: UnitOfWork, referral_id: str, la_code: str, facts: dict, now: datetime) -> None:
    await repo.upsert_child(uow.session, referral_id, la_code, facts, now)
    if facts.get("kind") == "outreach":  # an intervention made before these facts arrived (another topic) gets them
        handoff = facts.get("handoff_from_placement_id")
        await repo.intervention_setting(uow.session, referral_id, facts.get("current_setting"),
                                        str(handoff) if handoff else None)


async def episodes(session, principal: Principal, *, placement: str | None = None, start: date | None = None,
                   end: date | None = None) -> tuple[list[dict], list[str]]:
    """The caller's SSDA903 episodes between two days (each placement's, oldest first), the child records
    (referral ids) they came from, and how many of a council's placements were left out because the child's record
    is restricted (decision 0006). A placement the caller may not read is Missing."""
    rows = await repo.arrived_placements(session, principal, placement=placement, start=start, end=end)
    if placement is not None:  # one placement: a council's restricted child is Restricted (451)
        if await repo.get_placement(session, principal, placement) is None:
            raise Missing("placement")
    rows, _, omitted = await repo.screen(session, principal, rows)  # the exports leave a restricted child out
    kids = await repo.children_of(session, [r["referral_id"] for r in rows])
    out = []
    for r in rows:
        child = kids.get(r["referral_id"], {})
        for e in ssda903.episodes(child=child, placement=r):
            if ssda903.overlaps(e, start, end):
                out.append({**e, "placement_id": r["id"], "la_code": r["la_code"],
                            "dfe_la_number": dfe_la_number(r["la_code"])})
    return out, [r["referral_id"] for r in rows], omitted


async def csc_placements(session, principal: Principal, *, placement: str | None = None, start: date | None = None,
                         end: date | None = None) -> tuple[list[dict], list[str]]:
    """The caller's placements between two days in the DfE children's social care API's shape, one item per child
    ({la_child_id, la_code, dfe_la_number, child_looked_after_placements}), and the child records they came from.
    A placement the caller may not read is Missing."""
    rows = await repo.arrived_placements(session, principal, placement=placement, start=start, end=end)
    if placement is not None:  # one placement: a council's restricted child is Restricted (451)
        if await repo.get_placement(session, principal, placement) is None:
            raise Missing("placement")
    rows, _, omitted = await repo.screen(session, principal, rows)  # the exports leave a restricted child out
    kids = await repo.children_of(session, [r["referral_id"] for r in rows])
    children: dict[str, dict] = {}
    for r in rows:
        item = ssda903.csc_placement(placement_id=r["id"], placement=r)
        if item is None:
            continue
        child_ref = kids.get(r["referral_id"], {}).get("child_ref")
        child = children.setdefault(r["referral_id"], {
            "la_child_id": child_ref, "la_code": r["la_code"], "dfe_la_number": dfe_la_number(r["la_code"]),
            "child_looked_after_placements": []})
        child["child_looked_after_placements"].append(item)
    return list(children.values()), [r["referral_id"] for r in rows], omitted


# --- what the consumer and the periodic jobs run ------------------------------------------------------
async def open_pending_placement(uow: UnitOfWork, *, placement_id: str, admission_id: str, la_code: str,
                                 admission: AdmissionAccepted, now: datetime) -> bool:
    """The pending placement of an accepted admission; False when it already exists (a replayed event)."""
    if await repo.placement_for_admission(uow.session, admission_id):
        return False
    await repo.insert_placement(
        uow.session, id=placement_id, admission_id=admission_id, referral_id=str(admission.referral_id),
        la_code=la_code, home_id=str(admission.home_id), bed_id=str(admission.bed_id), status=Status.pending.value,
        planned_start_date=admission.planned_start_date, history=[], extensions=[], transitions=[], version=1,
        home_urn=admission.home_urn, home_postcode=admission.home_postcode, legal_statuses=[],
        created_at=now, updated_at=now)
    return True


async def notify_deadline(uow: UnitOfWork, deadline: dict, notice: str, now: datetime) -> None:
    """Record the notice (unique per deadline and notice: a second one raises IntegrityError) and emit
    deadline.due_soon or deadline.missed in the same transaction."""
    model = DeadlineDueSoon if notice == "due_soon" else DeadlineMissed
    await repo.insert_notice(uow.session, deadline["deadline_key"], notice, now)
    await uow.emit(model(deadline_key=deadline["deadline_key"], placement_id=deadline["placement_id"],
                         home_id=deadline["home_id"], kind=deadline["kind"], item=deadline["item"],
                         due_date=deadline["due_date"], intervention_id=deadline.get("intervention_id")),
                   subject_id=deadline["placement_id"] or deadline["intervention_id"], la_code=deadline["la_code"])


# --- reads (a session, the caller's tenancy applied by the repository) -----------------------------------
async def placement_views(session, rows: list[dict], as_of: date, today: date) -> list[dict]:
    """Placements as the API shows them; their plans and open reviews read for all of them at once."""
    found_plans, open_reviews = await repo.plans_and_open_reviews(session, [r["id"] for r in rows])
    fees = await repo.weekly_fees_of(session, [r["referral_id"] for r in rows])
    kids = await repo.children_of(session, [r["referral_id"] for r in rows])
    return [{**repo.placement_view(r, found_plans.get(r["id"]), open_reviews.get(r["id"]), as_of, today),
             **weekly_fee_view(fees.get(r["referral_id"]), r["admission_id"]), "links": _links(r),
             "council_name": council_name(r["la_code"]), "dfe_la_number": dfe_la_number(r["la_code"]),
             "legal_status_history": _legal_statuses(r, kids.get(r["referral_id"]))} for r in rows]


def _legal_statuses(row: dict, child: dict | None) -> list[dict]:
    """The child's legal status from each day of the placement: the referral's from arrival, then each change."""
    initial = child.get("legal_status") if child else None
    by_day = {c["effective_date"]: c for c in row.get("legal_statuses") or []}
    out = []
    for span in ssda903.legal_status_history(initial, row["arrival_date"], row.get("legal_statuses") or []):
        recorded = by_day.get(span.effective_date.isoformat())
        out.append({"legal_status": span.legal_status, "effective_date": span.effective_date,
                    "source": "change" if recorded else "referral",
                    "recorded_by": recorded["recorded_by"] if recorded else None})
    return out


def _links(row: dict) -> dict:
    """Where a placement leads: back to its referral and the hub's decision, on to its home and plan."""
    pid = row["id"]
    return {"self": f"/v1/placements/{pid}", "referral": f"/v1/referrals/{row['referral_id']}",
            "admission": f"/v1/admissions/{row['admission_id']}", "home": f"/v1/homes/{row['home_id']}/profile",
            "plan": f"/v1/placements/{pid}/plan", "reviews": f"/v1/placements/{pid}/reviews",
            "tasks": f"/v1/placements/{pid}/tasks", "ssda903_episodes": f"/v1/placements/{pid}/ssda903-episodes"}


async def deadlines(session, principal: Principal, *, home: str | None, placement: str | None,
                    today: date) -> list[dict]:
    """The caller's open deadlines, soonest first (then by deadline_key)."""
    return await repo.open_deadlines(session, repo.placements_of(principal, home=home, placement=placement), today)


# --- the weekly fee billing tells (placement.fee_applied) -------------------------------------------------
async def weekly_fee_applied(uow: UnitOfWork, payload, now: datetime) -> None:
    """Kept for the admission's and the placement's reads (the newest notice per child wins)."""
    await repo.record_weekly_fee(uow.session, payload, now)


# --- outreach interventions (issue 16) ---------------------------------------------------------------------
def _intervention_of(row: dict) -> Intervention:
    return Intervention(status=IStatus(row["status"]), planned_start_date=row["planned_start_date"],
                        start_date=row["start_date"], stepping_down_on=row["stepping_down_on"],
                        end_date=row["end_date"], outcome=row["outcome"], stabilised_on=row["stabilised_on"])


async def open_intervention(uow: UnitOfWork, *, la_code: str, accepted: OutreachAccepted, now: datetime) -> bool:
    """The intervention of an accepted outreach referral, and intervention.started; False when it already
    exists (a redelivered or replayed event)."""
    intervention_id = intervention_id_for(accepted.admission_id)
    if await repo.intervention_exists(uow.session, intervention_id):
        return False
    referral_id = str(accepted.referral_id)
    child = (await repo.children_of(uow.session, [referral_id])).get(referral_id) or {}
    plan = default_plan(accepted.basis)
    plan_json = {"goals": list(plan.goals), "sessions_per_week": plan.sessions_per_week}
    await repo.insert_intervention(
        uow.session, id=intervention_id, admission_id=str(accepted.admission_id), referral_id=referral_id,
        la_code=la_code, team_id=str(accepted.team_id), region=accepted.region, basis=accepted.basis,
        planned_weeks=accepted.planned_weeks, planned_start_date=accepted.planned_start_date,
        current_setting=child.get("current_setting"),
        handoff_from_placement_id=child.get("handoff_from_placement_id"), status=IStatus.accepted.value,
        plan=plan_json, plan_version=1,
        plan_versions=[{**plan_json, "version": 1, "recorded_on": now.date().isoformat(), "by": "outreach.accepted",
                        "at": now.isoformat()}],
        history=[], version=1, created_at=now, updated_at=now)
    await uow.emit(InterventionStarted(
        intervention_id=intervention_id, referral_id=accepted.referral_id, admission_id=accepted.admission_id,
        team_id=accepted.team_id, basis=accepted.basis, planned_weeks=accepted.planned_weeks,
        start_date=accepted.planned_start_date, current_setting=child.get("current_setting")),
        subject_id=intervention_id, la_code=la_code)
    return True


async def _intervention(uow: UnitOfWork, principal: Principal, intervention_id: str) -> dict:
    row = await repo.get_intervention(uow.session, principal, intervention_id, for_update=True)
    if row is None:
        raise Missing("intervention")
    return row


async def move_intervention(uow: UnitOfWork, principal: Principal, intervention_id: str, *, to: str,
                            effective_date: date, outcome: str | None, stabilised_on: date | None, precondition,
                            today: date, now: datetime) -> dict:
    """A status move checked against If-Match under the row lock; the same move again (same status, date and
    outcome) changes nothing. Emits intervention.status_changed, and intervention.closed on a close."""
    row = await _intervention(uow, principal, intervention_id)
    if row["status"] == to and _same_move(row, to, effective_date, outcome, stabilised_on):
        return row
    if precondition is not None and not precondition(row["version"]):
        raise Stale(row["version"], "intervention")
    before = _intervention_of(row)
    after = before.move(to, effective_date, today, outcome=outcome, stabilised_on=stabilised_on)
    values = {"status": after.status.value, "start_date": after.start_date, "stepping_down_on": after.stepping_down_on,
              "end_date": after.end_date, "outcome": after.outcome, "stabilised_on": after.stabilised_on,
              "history": row["history"] + [{"from": row["status"], "to": to, "effective_date": effective_date.isoformat(),
                                            "by": principal.client_id, "at": now.isoformat()}]}
    new = await repo.save_intervention(uow.session, row, values, now)
    subject = {"subject_id": row["id"], "la_code": row["la_code"]}
    await uow.emit(InterventionStatusChanged(intervention_id=row["id"], referral_id=row["referral_id"],
                                             from_status=row["status"], to_status=to, effective_date=effective_date,
                                             at=now), **subject)
    if after.status == IStatus.closed:
        sessions = (await repo.sessions_of(uow.session, [row["id"]]))[row["id"]]
        await uow.emit(InterventionClosed(
            intervention_id=row["id"], referral_id=row["referral_id"], team_id=row["team_id"],
            start_date=after.start_date or row["planned_start_date"], end_date=after.end_date, outcome=after.outcome,
            stabilised_on=after.stabilised_on, sessions=len(sessions)), **subject)
    return new


def _same_move(row: dict, to: str, effective: date, outcome: str | None, stabilised_on: date | None) -> bool:
    on = {"active": row["start_date"], "stepping_down": row["stepping_down_on"], "closed": row["end_date"]}.get(to)
    return on == effective and row["outcome"] == outcome and row["stabilised_on"] == stabilised_on


async def revise_intervention_plan(uow: UnitOfWork, principal: Principal, intervention_id: str, *, goals: list[str],
                                   sessions_per_week: int, precondition, today: date, now: datetime) -> dict:
    """A new version of the intervention plan (every version is kept); the same plan again changes nothing."""
    row = await _intervention(uow, principal, intervention_id)
    plan = IPlan(tuple(goals), sessions_per_week).check()
    wanted = {"goals": list(plan.goals), "sessions_per_week": plan.sessions_per_week}
    if wanted == row["plan"]:
        return row
    if precondition is not None and not precondition(row["version"]):
        raise Stale(row["version"], "intervention")
    if row["status"] == IStatus.closed.value:
        raise IllegalInterventionMove(IStatus.closed, "revise_plan", "a closed intervention's plan no longer changes")
    version = row["plan_version"] + 1
    versions = row["plan_versions"] + [{**wanted, "version": version, "recorded_on": today.isoformat(),
                                        "by": principal.client_id, "at": now.isoformat()}]
    return await repo.save_intervention(uow.session, row, {"plan": wanted, "plan_version": version,
                                                           "plan_versions": versions}, now)


async def log_session(uow: UnitOfWork, principal: Principal, intervention_id: str, *, session_date: date,
                      minutes: int, with_whom: list[str], today: date, now: datetime) -> tuple[dict, dict]:
    """A session with the child or the people around the child (codes and numbers only); emits
    intervention.session_logged. Answers the session and its intervention."""
    row = await _intervention(uow, principal, intervention_id)
    _intervention_of(row).check_session(session_date, minutes, with_whom, today)
    session_row = dict(id=str(uuid.uuid4()), intervention_id=row["id"], session_date=session_date, minutes=minutes,
                       with_whom=list(with_whom), recorded_by=principal.client_id, recorded_at=now)
    await repo.insert_session(uow.session, **session_row)
    await uow.emit(InterventionSessionLogged(intervention_id=row["id"], session_id=session_row["id"],
                                             session_date=session_date, minutes=minutes, with_whom=with_whom),
                   subject_id=row["id"], la_code=row["la_code"])
    return session_row, row


async def record_follow_up(uow: UnitOfWork, principal: Principal, intervention_id: str, *, checkpoint: str,
                           held: bool, recorded_on: date, breakdown_date: date | None, today: date,
                           now: datetime) -> tuple[dict, dict]:
    """Whether the child's placement held at a checkpoint after the close (once per checkpoint: the same
    record again answers it, another is a conflict); emits intervention.follow_up_recorded."""
    row = await _intervention(uow, principal, intervention_id)
    due = _intervention_of(row).check_follow_up(checkpoint, held, recorded_on, breakdown_date, today)
    existing = (await repo.follow_ups_of(uow.session, [row["id"]]))[row["id"]].get(checkpoint)
    if existing is not None:
        if (existing["held"], existing["recorded_on"], existing["breakdown_date"]) == (held, recorded_on,
                                                                                      breakdown_date):
            return existing, row
        raise PlanConflict(f"The {checkpoint} check is already recorded.", current_status="recorded",
                           allowed_moves=[])
    values = dict(intervention_id=row["id"], checkpoint=checkpoint, due_date=due, held=held, recorded_on=recorded_on,
                  breakdown_date=breakdown_date, recorded_by=principal.client_id, recorded_at=now)
    await repo.insert_follow_up(uow.session, **values)
    await uow.emit(InterventionFollowUpRecorded(intervention_id=row["id"], referral_id=row["referral_id"],
                                                checkpoint=checkpoint, due_date=due, held=held,
                                                recorded_on=recorded_on, breakdown_date=breakdown_date),
                   subject_id=row["id"], la_code=row["la_code"])
    return values, row


async def intervention_views(session, rows: list[dict], today: date) -> list[dict]:
    """Interventions as the API shows them: the plan, the sessions, and the follow-up checks with their state."""
    ids = [r["id"] for r in rows]
    sessions = await repo.sessions_of(session, ids)
    follow_ups = await repo.follow_ups_of(session, ids)
    out = []
    for r in rows:
        checks = []
        if r["outcome"] != "withdrawn":
            for checkpoint, due in follow_ups_due(r["end_date"]):
                done = follow_ups[r["id"]].get(checkpoint)
                checks.append({"checkpoint": checkpoint, "due_date": due,
                               "state": "recorded" if done else deadline_state(due, False, today),
                               "held": done["held"] if done else None,
                               "recorded_on": done["recorded_on"] if done else None,
                               "breakdown_date": done["breakdown_date"] if done else None})
        mine = sessions[r["id"]]
        out.append({**{k: r[k] for k in ("id", "admission_id", "referral_id", "la_code", "team_id", "region", "basis",
                                         "planned_weeks", "planned_start_date", "current_setting",
                                         "handoff_from_placement_id", "status", "start_date", "stepping_down_on",
                                         "end_date", "outcome", "stabilised_on", "plan_version", "version")},
                    "plan": {**r["plan"], "version": r["plan_version"]}, "plan_versions": r["plan_versions"],
                    "history": r["history"], "allowed_moves": allowed_intervention_moves(r["status"]),
                    "council_name": council_name(r["la_code"]),
                    "sessions": [{k: s[k] for k in ("id", "session_date", "minutes", "with_whom")} for s in mine],
                    "session_count": len(mine), "session_minutes": sum(s["minutes"] for s in mine),
                    "follow_ups": checks,
                    "links": {"self": f"/v1/interventions/{r['id']}", "referral": f"/v1/referrals/{r['referral_id']}"}})
    return out
