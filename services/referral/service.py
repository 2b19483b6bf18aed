"""The referral service's application operations: intake, change, withdrawal, decisions and expiry.

Each write takes the caller's unit of work and never commits: HTTP writes run through
libs.common.http.write (which commits, with the Idempotency-Key's stored answer in the same transaction),
event handlers through the consumer's unit of work, the expiry job and the demo seed through their own.
Reads take a session. Errors are domain errors; the app maps them to problems once (api/__init__.py).
"""
from __future__ import annotations

import logging
import uuid
from datetime import date, datetime, timezone
from typing import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.events.catalogue import ReferralRestricted, ReferralRestrictionLifted, ReferralWithdrawn
from libs.common.events.outbox import UnitOfWork
from libs.common.errors import Missing, Stale
from libs.common.restrictions import Restricted, marker

from . import repository as repo
from .domain.outreach import OUTREACH_FIELDS, Handoff, check_kind, handoff_referral
from .domain import placements_standard as ps
from .domain.referral import check_age
from .domain.restriction import check_requested_on
from .domain.status import OPEN, IllegalMove, Status, can_move, is_open, is_overdue
from .repository import ReferralFilter
from .schemas import ReferralCreate
from .settings import ReferralSettings

log = logging.getLogger("itp.referral.service")


class Closed(Exception):
    """The referral is decided: it can no longer be changed."""

    def __init__(self, status: str):
        super().__init__(status)
        self.status = status


Precondition = Callable[[int], bool]  # does the caller's If-Match admit this version? (libs.common.http.Precondition)


# --- intake -----------------------------------------------------------------------------------------
async def refer(uow: UnitOfWork, settings: ReferralSettings, *, la_code: str, body: ReferralCreate) -> dict:
    """Store the referral and emit referral.received in the caller's transaction (the outbox).
    Raises AgeOutsideRange, or FieldRule for an outreach field on a bed referral (or an outreach referral
    without its setting). Exactly-once per Idempotency-Key is the write path's job, not this one's."""
    now = datetime.now(timezone.utc)
    check_kind(body.kind, {k: getattr(body, k) for k in OUTREACH_FIELDS})
    check_age(body.date_of_birth, body.wanted_start_date or now.date(), settings.age_min, settings.age_max)
    intake = ps.to_ours(body.placements_standard.model_dump(mode="json", exclude_none=True)) if body.placements_standard else None
    facts = standard_facts(body, intake)
    row = dict(id=str(uuid.uuid4()), la_code=la_code, date_of_birth=body.date_of_birth, sex=body.sex,
               legal_status=body.legal_status, category_of_need=body.category_of_need,
               home_outward_code=body.home_postcode, needs=[n.model_dump() for n in body.needs],
               wanted_start_date=body.wanted_start_date, summary=body.summary,
               social_worker=body.social_worker.model_dump(), status=Status.received.value, version=1,
               received_at=now, updated_at=now, decided_at=None, decision_reason=None, admission_id=None,
               kind=body.kind, current_setting=body.current_setting,
               at_risk=list(body.at_risk) if body.kind == "outreach" else None, outreach_basis=body.outreach_basis,
               outreach_planned_weeks=body.outreach_planned_weeks, handoff_from_placement_id=None, placement_id=None,
               **facts)
    await repo.insert(uow.session, row)
    await uow.emit(repo.received_event(row), subject_id=row["id"], la_code=la_code)
    return row


def standard_facts(body: ReferralCreate, intake: ps.Intake | None) -> dict:
    """The columns a placement request sets: child_ref and urgency (the schema took them from the standard's childId
    and neededBy when the request left them out), risks and no_known_risks (with the standard's answers) and
    placement_request. Raises StandardValueError naming the field."""
    if body.placement_request is not None and intake is not None:
        raise ps.StandardValueError("placement_request", "one_of", "send placement_request or placements_standard, "
                                                                   "not both")
    risks, no_known = ps.merge_risks([r.model_dump() for r in body.risks], list(body.no_known_risks), intake)
    request = (intake.placement_request if intake else
               body.placement_request.model_dump(mode="json", exclude_none=True) if body.placement_request else None)
    return dict(child_ref=body.child_ref, urgency=body.urgency, risks=risks, no_known_risks=no_known,
                placement_request=request)


async def refer_unless_known(uow: UnitOfWork, settings: ReferralSettings, *, la_code: str,
                             body: ReferralCreate) -> dict | None:
    """The demo seed's intake: refer the child unless the council already has a referral with this
    child_ref (None then), so seeding twice, on any day, changes nothing."""
    if await repo.find_by_child_ref(uow.session, la_code, body.child_ref) is not None:
        return None
    return await refer(uow, settings, la_code=la_code, body=body)


# --- reads ------------------------------------------------------------------------------------------
async def read(session: AsyncSession, principal: Principal, referral_id: str) -> dict:
    row = await repo.get(session, principal, referral_id)
    if row is None:
        raise await _absent(session, principal, referral_id)
    return row


async def _absent(session: AsyncSession, principal: Principal, referral_id: str) -> Exception:
    """Why a caller finds no referral: a council's own restricted one is Restricted (it knows the child
    exists; a 404 would look like a lost record), anything else is Missing."""
    if principal.is_council:
        restriction = await repo.restriction_in_force(session, referral_id, principal.la_code)
        if restriction is not None:
            return Restricted(restriction)
    return Missing("referral")


async def page(session: AsyncSession, principal: Principal, f: ReferralFilter, cursor: str | None,
               limit: int) -> tuple[list[dict], str | None]:
    """A page of the referrals the caller may read; raises InvalidCursor for a forged cursor."""
    return await repo.page(session, principal, f, cursor, limit)


# --- the council's changes --------------------------------------------------------------------------
async def change(uow: UnitOfWork, settings: ReferralSettings, principal: Principal, referral_id: str,
                 values: dict, precondition: Precondition) -> dict:
    """Apply a merge patch (column values) to an open referral and emit referral.updated. A patch that
    changes nothing answers the referral as it is, whatever the precondition: a retried PATCH is harmless."""
    row = await repo.get(uow.session, principal, referral_id, for_update=True)
    if row is None:
        raise await _absent(uow.session, principal, referral_id)
    if all(row[k] == v for k, v in values.items()):
        return row
    if not precondition(row["version"]):
        raise Stale(row["version"], "referral")
    if not is_open(row["status"]):
        raise Closed(row["status"])
    merged = {**row, **values}
    if any(k in values for k in OUTREACH_FIELDS):
        check_kind(merged["kind"], merged)
    ps.merge_risks(merged["risks"], merged.get("no_known_risks") or [], None)  # never both present and none known
    if "date_of_birth" in values or "wanted_start_date" in values:
        check_age(merged["date_of_birth"], merged["wanted_start_date"] or datetime.now(timezone.utc).date(),
                  settings.age_min, settings.age_max)
    new = await repo.save(uow.session, row, **values)
    if new is None:
        raise Stale(row["version"] + 1, "referral")
    await uow.emit(repo.updated_event(new), subject_id=row["id"], la_code=row["la_code"])
    return new


async def withdraw(uow: UnitOfWork, principal: Principal, referral_id: str, reason: str,
                   precondition: Precondition | None) -> dict:
    """Withdraw an open referral and emit referral.withdrawn (with the coded reason only). Withdrawing a
    withdrawn referral answers it as it is; a decided one raises IllegalMove."""
    row = await repo.get(uow.session, principal, referral_id, for_update=True)
    if row is None:
        raise await _absent(uow.session, principal, referral_id)
    if row["status"] == Status.withdrawn.value:
        return row
    if precondition is not None and not precondition(row["version"]):
        raise Stale(row["version"], "referral")
    if not can_move(row["status"], Status.withdrawn):
        raise IllegalMove(row["status"], Status.withdrawn)
    now = datetime.now(timezone.utc)
    new = await repo.save(uow.session, row, status=Status.withdrawn.value, decided_at=now, decision_reason=reason)
    if new is None:
        raise Stale(row["version"] + 1, "referral")
    await uow.emit(ReferralWithdrawn(referral_id=row["id"], reason=reason, withdrawn_at=now),
                   subject_id=row["id"], la_code=row["la_code"])
    await _status_changed(uow, row, new, reason_code=reason, at=now)
    return new


# --- a step-down hands the child to outreach (the assessment service's placement.ended) -------------
async def open_handoff(uow: UnitOfWork, handoff: Handoff, *, event_id: str) -> dict | None:
    """Open the outreach referral a step-down hands the child to: the child's bed referral (found by its
    placement) gives the council, child_ref, date of birth and the rest; emits referral.received, so matching
    ranks teams for it. Once per placement, however often the event arrives (the inbox, this look-up, and a
    unique index on handoff_from_placement_id for two deliveries racing). The child's age is not checked: the
    child may have turned 18 on leaving, and refusing would lose the handoff. Raises LookupError while the
    placement's referral is unknown (the consumer retries, then parks the event for a replay)."""
    existing = await repo.find_by_handoff(uow.session, handoff.placement_id)
    if existing is not None:
        return None
    source = await repo.find_by_placement(uow.session, handoff.placement_id)
    if source is None:
        log.warning("outreach handoff for a placement without a known referral",
                    extra={"event_id": event_id, "placement_id": handoff.placement_id})
        raise LookupError("no accepted referral for the placement of the outreach handoff")
    now = datetime.now(timezone.utc)
    row = dict(id=str(uuid.uuid4()), **handoff_referral(source, handoff), status=Status.received.value, version=1,
               received_at=now, updated_at=now, decided_at=None, decision_reason=None, admission_id=None,
               placement_id=None)
    await repo.insert(uow.session, row)
    await uow.emit(repo.received_event(row), subject_id=row["id"], la_code=row["la_code"])
    return row


# --- the hub's decisions (matching's events) --------------------------------------------------------
async def move_on(uow: UnitOfWork, referral_id, to: Status, *, event_id: str, event_type: str, at: datetime,
                  reason_code: str | None = None, **values) -> None:
    """Move a referral on because of an event from matching (and emit referral.status_changed). Already
    there: nothing to do. An illegal move (an acceptance after a withdrawal) is logged by ids and ignored:
    retrying could never make it legal."""
    row = await repo.get_any(uow.session, str(referral_id), for_update=True)
    if row is None:
        log.warning("decision for an unknown referral", extra={"event_id": event_id, "event_type": event_type,
                                                               "referral_id": str(referral_id)})
        return
    if row["status"] == to.value:
        return
    if not can_move(row["status"], to):
        log.warning("decision ignored: illegal move", extra={
            "event_id": event_id, "event_type": event_type, "referral_id": str(referral_id),
            "from_status": row["status"], "to_status": to.value})
        return
    new = await repo.save(uow.session, row, status=to.value, **values)
    if new is None:
        raise RuntimeError("the referral changed meanwhile")  # the consumer retries with a fresh read
    await _status_changed(uow, row, new, reason_code=reason_code, at=at)


async def _status_changed(uow: UnitOfWork, old: dict, new: dict, *, reason_code: str | None, at: datetime) -> None:
    """Every change of status emits referral.status_changed, once, in the same transaction as the change."""
    await uow.emit(repo.status_changed_event(old, new, reason_code=reason_code, at=at),
                   subject_id=new["id"], la_code=new["la_code"])


# --- expiry -----------------------------------------------------------------------------------------
async def overdue(session: AsyncSession, settings: ReferralSettings, today: date) -> list[str]:
    """The ids of the open referrals not decided in time, as of today."""
    cutoff = date.fromordinal(today.toordinal() - settings.expire_after_days)
    return [c.id for c in await repo.overdue_candidates(session, cutoff)
            if is_overdue(c.status, c.wanted_start_date, c.received_at.date(), today, settings.expire_after_days)]


async def expire(uow: UnitOfWork, referral_id: str) -> bool:
    """Expire one overdue referral (emits referral.updated with status expired). False when it is no
    longer open, or changed meanwhile: a second sweep, or a decision racing this one, wins harmlessly."""
    row = await repo.get_any(uow.session, referral_id, for_update=True)
    if row is None or row["status"] not in {s.value for s in OPEN}:
        return False
    now = datetime.now(timezone.utc)
    new = await repo.save(uow.session, row, status=Status.expired.value, decided_at=now,
                          decision_reason="not_decided_in_time")
    if new is None:
        return False
    await uow.emit(repo.updated_event(new), subject_id=referral_id, la_code=row["la_code"])
    await _status_changed(uow, row, new, reason_code="not_decided_in_time", at=now)
    return True


# --- restrictions of processing (decision 0006) -------------------------------------------------------
async def restrict(uow: UnitOfWork, principal: Principal, referral_id: str, *, reason_code: str, requested_by: str,
                   requested_on: date, scope: list[str]) -> tuple[dict, bool]:
    """Record a restriction of processing on a child's record (what a right-to-erasure request becomes); the
    record itself is untouched. Answers (the restriction, created). The same request again (a restriction in
    force with the same reason, requester, date and scope) answers the one recorded: nothing new is stored."""
    check_requested_on(requested_on, datetime.now(timezone.utc).date())
    row = await repo.get(uow.session, principal, referral_id, for_update=True)
    if row is None:
        raise Missing("referral")
    scope = sorted(set(scope))
    for existing in await repo.restrictions_of(uow.session, referral_id):
        if existing["lifted_at"] is None and (existing["reason_code"], existing["requested_by"],
                                              existing["requested_on"], sorted(existing["scope"])) == (
                reason_code, requested_by, requested_on, scope):
            return existing, False
    restriction = dict(id=str(uuid.uuid4()), referral_id=row["id"], reason_code=reason_code,
                       requested_by=requested_by, requested_on=requested_on, scope=scope,
                       recorded_by=principal.client_id, recorded_at=datetime.now(timezone.utc), lifted_at=None)
    await repo.insert_restriction(uow.session, restriction)
    await uow.emit(ReferralRestricted(referral_id=row["id"], restriction_id=restriction["id"],
                                      reason_code=reason_code, requested_on=requested_on, scope=scope,
                                      recorded_at=restriction["recorded_at"]),
                   subject_id=row["id"], la_code=row["la_code"])
    log.info("restriction recorded", extra={"referral_id": row["id"], "reason_code": reason_code})
    return restriction, True


async def restrictions(session: AsyncSession, principal: Principal, referral_id: str) -> list[dict]:
    """A referral's restrictions (the hub's view), oldest first."""
    if await repo.get(session, principal, referral_id) is None:
        raise Missing("referral")
    return await repo.restrictions_of(session, referral_id)


async def restriction_marks(session: AsyncSession, principal: Principal,
                            referral_ids: list[str]) -> tuple[dict[str, dict], int]:
    """For a read: the hub's marker of each restricted referral among these, and (a council's listing) how many
    of the council's referrals are restricted and so left out."""
    if principal.is_council:
        return {}, await repo.restricted_count(session, principal.la_code)
    marks = await repo.restricted_among(session, referral_ids)
    return {k: marker(r) for k, r in marks.items()}, 0


async def lift(uow: UnitOfWork, principal: Principal, referral_id: str, restriction_id: str) -> tuple[dict, bool]:
    """Lift a restriction (a recorded act: lifted_at and who lifted it; nothing else changes). Answers (the
    restriction, lifted now); lifting one already lifted answers it as it is and emits nothing."""
    row = await repo.get(uow.session, principal, referral_id, for_update=True)
    if row is None:
        raise Missing("referral")
    found = [r for r in await repo.restrictions_of(uow.session, referral_id) if r["id"] == restriction_id]
    if not found:
        raise Missing("restriction")
    restriction = found[0]
    if restriction["lifted_at"] is not None:
        return restriction, False
    lifted_at = datetime.now(timezone.utc)
    await repo.lift_restriction(uow.session, restriction_id, lifted_at, principal.client_id)
    restriction = {**restriction, "lifted_at": lifted_at, "lifted_by": principal.client_id}
    await uow.emit(ReferralRestrictionLifted(referral_id=referral_id, restriction_id=restriction_id,
                                             reason_code=restriction["reason_code"], lifted_at=lifted_at),
                   subject_id=referral_id, la_code=row["la_code"])
    log.info("restriction lifted", extra={"referral_id": referral_id, "reason_code": restriction["reason_code"]})
    return restriction, True
