"""Matching's application operations: home onboarding and changes, beds, ranking (the impact risk
assessment), admission decisions, reservation lapses and the read models the consumers keep.

Writes take the caller's UnitOfWork and never commit (an HTTP write commits in libs.common.http.write,
a consumer in the EventConsumer, a periodic job in scheduled.py); reads take a session. The rules live
in domain/, the SQL in repository.py; errors are the domain errors below, mapped to problems once in
api/__init__.py.
"""
from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Callable, Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.ages import age_on
from libs.common.auth import Principal
from libs.common.events.catalogue import (AdmissionAccepted, AdmissionDeclined, HomeOnboarded, ImpactRiskAssessed,
                                          NeedOrRisk, OutreachAccepted)
from libs.common.events.outbox import UnitOfWork
from libs.common.vocabulary import expand_deprecated
from libs.common.weekly_fees import weekly_fee_view
from libs.common.errors import Missing, Stale

from . import repository as repo
from .domain.beds import ONBOARDING_CHECKLIST, IllegalBedMove, check_manual_move
from .domain.impact_risk import ImpactRiskAssessment, answer, assess, canonical
from .domain.limits import failed_limit, is_matchable, required_categories
from .domain.model import Child, Home, Requirements
from .domain.postcodes import normalise
from .domain.rules import load_rules
from .domain import teams as team_rules
from .repository import HomesSnapshot, utcnow  # noqa: F401 - the api modules' clock
from .settings import matching_settings

Precondition = Callable[[int], bool]  # libs.common.http.Precondition: admits(version)


# --- domain errors (api/__init__.py maps each to its problem, once) -------------------------------------




class Refused(Exception):
    """The change is not allowed in the record's current state (409), with what the caller may do."""

    def __init__(self, detail: str, **extra: Any):
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class Invalid(Exception):
    """A field of the request breaks a rule that needs the stored state to check (422)."""

    def __init__(self, field: str, rule: str, message: str):
        super().__init__(message)
        self.field, self.rule, self.message = field, rule, message


# --- homes: reads ---------------------------------------------------------------------------------------
HOME_FIELDS = ("id", "urn", "name", "address", "postcode", "postcode_district", "registered_places", "age_min",
               "age_max", "sexes", "categories", "specialisms", "registered_manager", "registered_manager_email",
               "registered_manager_phone", "ofsted_rating",
               "inspection_date", "registration_status", "status", "phase_1_limit", "pets",
               "accepts_deprivation_of_liberty", "communication_support", "adapted", "version", "went_live_at")


def _not_offered(h: dict, items: dict[str, dict], bed_rows: list[dict]) -> list[dict]:
    """Why the hub's matching does not offer the home now, each with the next step (empty: it is offered)."""
    out = []
    if h["status"] != "live":
        open_items = [i for i in ONBOARDING_CHECKLIST if not items.get(i, {}).get("done")]
        out.append({"reason": "onboarding", "detail": "the home is onboarding: it enters matching at go-live",
                    "next_step": None if open_items else f"POST /v1/homes/{h['id']}/go-live"})
        if open_items:
            out.append({"reason": "checklist_incomplete", "detail": "checklist items open: " + ", ".join(open_items),
                        "next_step": f"PUT /v1/homes/{h['id']}/checklist/{open_items[0]}"})
    if h["registration_status"] != "registered":
        out.append({"reason": "registration_suspended", "detail": f"the registration is {h['registration_status']}",
                    "next_step": f"POST /v1/homes/{h['id']}/reinstate"})
    if h["ofsted_rating"] == "inadequate":
        out.append({"reason": "rated_inadequate", "detail": "the latest Ofsted rating is inadequate",
                    "next_step": f"PATCH /v1/homes/{h['id']} with the new rating after a re-inspection"})
    if h["status"] == "live" and not any(b["is_pathway"] and b["state"] == "vacant" for b in bed_rows):
        out.append({"reason": "no_free_pathway_bed",
                    "detail": "no vacant Pathway Bed: the home is not offered for a new admission until one is free",
                    "next_step": None})
    elif h["status"] == "live" and h.get("in_phase_1", 0) >= h["phase_1_limit"]:
        # the hard limit of domain/limits.failed_limit: its Pathway Bed capacity is used by children in Phase 1
        out.append({"reason": "phase_1_limit",
                    "detail": f"{h['in_phase_1']} child(ren) already in Phase 1; the home's limit is "
                              f"{h['phase_1_limit']}: its Pathway Bed is free once one moves to Phase 2",
                    "next_step": None})
    return out


def _view(h: dict, items: dict[str, dict], bed_rows: list[dict]) -> dict:
    live = h["status"] == "live"
    return {
        **{k: h[k] for k in HOME_FIELDS},
        "not_offered_because": _not_offered(h, items, bed_rows),
        "in_phase_1": h.get("in_phase_1", 0),
        "matchable": live and is_matchable(Home(id=h["id"], registration_status=h["registration_status"],
                                                ofsted_rating=h["ofsted_rating"])),
        "checklist": [{"item": i, "done": bool(items.get(i, {}).get("done")),
                       "confirmed_by": items.get(i, {}).get("confirmed_by"),
                       "confirmed_at": items.get(i, {}).get("confirmed_at"), "note": items.get(i, {}).get("note")}
                      for i in ONBOARDING_CHECKLIST],
        "beds": [{k: b[k] for k in ("id", "label", "state", "is_pathway", "reserved_until")} for b in bed_rows],
    }


async def home(session: AsyncSession, principal: Principal, home_id: str) -> dict:
    """The home with its checklist and beds; Missing when the caller may not see it."""
    found = await repo.homes_with_parts(session, repo.readable_homes(principal).where(repo.homes.c.id == home_id))
    if not found:
        raise Missing("home")
    return _view(*found[0])


async def list_homes(session: AsyncSession, principal: Principal, status: str | None = None) -> list[dict]:
    stmt = repo.readable_homes(principal)
    if status:
        stmt = stmt.where(repo.homes.c.status == status)
    return [_view(*parts) for parts in await repo.homes_with_parts(session, stmt)]


async def home_profile(session: AsyncSession, principal: Principal, home_id: str) -> dict:
    """The home a council's child lives in (or lived in, or will: an accepted admission reserved or arrived),
    as the council reads it; Missing for any other home, so a council learns nothing about homes where it has
    no child. Hub roles read any home they may read. Never residents, beds or other children."""
    if principal.is_council:
        h = await repo.home_of_council(session, principal.la_code, home_id)
    else:
        h = await repo.get_home(session, principal, home_id)
    if h is None:
        raise Missing("home")
    return {**{k: h[k] for k in ("id", "name", "address", "postcode", "urn", "ofsted_rating", "inspection_date")},
            "registered_manager": {"name": h["registered_manager"], "email": h["registered_manager_email"],
                                   "phone": h["registered_manager_phone"]},
            "ofsted_report_url": f"https://reports.ofsted.gov.uk/provider/2/{h['urn']}"}


async def withdraw_onboarding_home(uow: UnitOfWork, principal: Principal, home_id: str,
                                   precondition: Precondition) -> None:
    """Remove a home created by mistake while it is still onboarding (it was never offered, so no child,
    admission or assessment refers to it). A live home is refused: suspend it instead."""
    h = await _locked_home(uow, principal, home_id, precondition)
    if h["status"] != "onboarding":
        raise Refused("Only a home still onboarding can be withdrawn; a live home is suspended instead.",
                      home_status=h["status"], allowed=[f"POST /v1/homes/{home_id}/suspend"])
    await repo.delete_onboarding_home(uow.session, home_id)
    await repo.bump(uow.session)


async def residents(session: AsyncSession, principal: Principal, home_id: str, today: date) -> list[dict]:
    """The children living in a home, each by referral id, age, sex, phase and codes (never a name)."""
    if await repo.get_home(session, principal, home_id) is None:
        raise Missing("home")
    return [{"placement_id": r["placement_id"], "referral_id": r["referral_id"], "bed_id": r["bed_id"],
             "phase": r["phase"], "start_date": r["start_date"],
             "age": age_on(r["date_of_birth"], today) if r["date_of_birth"] else None, "sex": r["sex"],
             "codes": sorted({x["code"] for x in [*(r["needs"] or []), *(r["risks"] or [])]})}
            for r in await repo.current_residents(session, home_id)]


# --- homes: onboarding and changes ----------------------------------------------------------------------
def _registration(values: dict) -> tuple:
    return (values["name"], values["address"], values["postcode"], values["registered_places"], values["age_min"],
            values["age_max"], sorted(values["sexes"]), sorted(values["categories"]))


async def onboard_home(uow: UnitOfWork, principal: Principal, fields: dict, now: datetime) -> tuple[dict, bool]:
    """A home starts in onboarding with one vacant bed per registered place and an open checklist; it enters
    matching only after go-live. A retry with the same registration facts answers the home already onboarded
    (created False); another home with the URN is refused."""
    postcode, district = normalise(fields["postcode"])
    values = {**fields, "postcode": postcode, "postcode_district": district,
              "sexes": sorted(set(fields["sexes"])), "categories": sorted(set(fields["categories"])),
              "specialisms": sorted(set(fields.get("specialisms") or [])),
              "communication_support": sorted(set(fields.get("communication_support") or []))}
    existing = await repo.home_by_urn(uow.session, values["urn"])
    if existing is not None:
        if _registration(existing) == _registration(values):
            return await home(uow.session, principal, existing["id"]), False
        raise Refused(f"A home with URN {values['urn']} is already onboarded.", home_id=existing["id"])
    home_id = str(uuid.uuid4())
    values.update(id=home_id, status="onboarding", version=1, went_live_at=None, created_at=now, updated_at=now,
                  phase_1_limit=values.get("phase_1_limit") or matching_settings().default_phase_1_limit)
    await repo.insert_home(uow.session, values, now)
    await repo.bump(uow.session)
    return await home(uow.session, principal, home_id), True


async def _locked_home(uow: UnitOfWork, principal: Principal, home_id: str,
                       precondition: Precondition | None) -> dict:
    h = await repo.get_home(uow.session, principal, home_id, for_update=True)
    if h is None:
        raise Missing("home")
    if precondition is not None and not precondition(h["version"]):
        raise Stale(h["version"], "home")
    return h


async def update_home(uow: UnitOfWork, principal: Principal, home_id: str, changes: dict,
                      precondition: Precondition | None, now: datetime) -> dict:
    """Only the fields sent change. A rating of Inadequate takes the home out of matching at once; registered
    places only grow (new vacant beds), a bed is taken out of service instead."""
    h = await _locked_home(uow, principal, home_id, precondition)
    changes = dict(changes)
    if changes.get("postcode"):
        changes["postcode"], changes["postcode_district"] = normalise(changes["postcode"])
    for key in ("sexes", "categories", "specialisms", "communication_support"):
        if changes.get(key) is not None:
            changes[key] = sorted(set(changes[key]))
    if (changes.get("age_min", h["age_min"]) or 0) > (changes.get("age_max", h["age_max"]) or 0):
        raise Invalid("body.age_min", "age_range", "age_min must not exceed age_max")
    places = changes.get("registered_places")
    if places is not None:
        count = await repo.count_beds(uow.session, home_id)
        if places < count:
            raise Refused("Registered places cannot drop below the home's beds; take beds out of service instead.",
                          allowed=["increase registered_places", "PATCH a bed to out_of_service"])
        await repo.add_beds(uow.session, home_id, count, [str(uuid.uuid4()) for _ in range(places - count)], now)
    if not await repo.update_home(uow.session, home_id, h["version"], {**changes, "updated_at": now}):
        current = await repo.get_home(uow.session, principal, home_id)
        raise Stale(current["version"] if current else h["version"] + 1, "home")
    await repo.refresh_pathway_bed(uow.session, home_id)
    await repo.bump(uow.session)
    return await home(uow.session, principal, home_id)


async def confirm_checklist_item(uow: UnitOfWork, principal: Principal, home_id: str, item: str, *, done: bool,
                                 note: str | None, now: datetime) -> dict:
    """Records who confirmed the item and when. Confirming again changes nothing but the note."""
    if item not in ONBOARDING_CHECKLIST:
        raise Invalid("path.item", "checklist_item", f"unknown checklist item; one of: {', '.join(ONBOARDING_CHECKLIST)}")
    if await repo.get_home(uow.session, principal, home_id) is None:
        raise Missing("home")
    row = await repo.checklist_item(uow.session, home_id, item)
    if row is None:
        raise Missing("home")
    values: dict = {"note": note} if note is not None else {}
    if done != row["done"]:
        values.update(done=done, confirmed_by=principal.client_id if done else None,
                      confirmed_at=now if done else None)
    if values:
        await repo.update_checklist_item(uow.session, home_id, item, values)
    return await home(uow.session, principal, home_id)


async def go_live(uow: UnitOfWork, principal: Principal, home_id: str, precondition: Precondition | None,
                  now: datetime) -> dict:
    """Only when every checklist item is done. Emits home.onboarded once; going live again changes nothing."""
    h = await _locked_home(uow, principal, home_id, precondition)
    if h["status"] != "live":
        done = await repo.done_items(uow.session, home_id)
        missing = [i for i in ONBOARDING_CHECKLIST if i not in done]
        if missing:
            raise Refused("The onboarding checklist is not complete.", missing_items=missing,
                          allowed=[f"PUT /v1/homes/{home_id}/checklist/{i}" for i in missing])
        if await repo.go_live(uow.session, home_id, h["version"], now):
            await repo.refresh_pathway_bed(uow.session, home_id)
            await repo.bump(uow.session)
            await uow.emit(HomeOnboarded(home_id=uuid.UUID(home_id), urn=h["urn"],
                                         postcode_district=h["postcode_district"],
                                         registered_places=h["registered_places"], age_min=h["age_min"],
                                         age_max=h["age_max"]), subject_id=home_id, la_code=None)
    return await home(uow.session, principal, home_id)


async def set_registration(uow: UnitOfWork, principal: Principal, home_id: str, status: str,
                           precondition: Precondition | None, now: datetime) -> dict:
    """suspended takes the home out of matching at once (existing reservations stand; new ones cannot be
    made); registered puts it back."""
    h = await _locked_home(uow, principal, home_id, precondition)
    if h["registration_status"] != status:
        if not await repo.update_home(uow.session, home_id, h["version"],
                                      {"registration_status": status, "updated_at": now}):
            raise Stale(h["version"] + 1, "home")
        await repo.bump(uow.session)
    return await home(uow.session, principal, home_id)


async def set_bed_state(uow: UnitOfWork, principal: Principal, home_id: str, bed_id: str, state: str,
                        now: datetime) -> dict:
    """Take a vacant bed out of service or put it back (arrivals, endings and reservations move beds
    through events and decisions)."""
    if await repo.get_home(uow.session, principal, home_id) is None:
        raise Missing("home")
    b = await repo.get_bed(uow.session, home_id, bed_id)
    if b is None:
        raise Missing("bed")
    if b["state"] != state:
        try:
            check_manual_move(b["state"], state)
        except IllegalBedMove as exc:
            raise Refused(str(exc), allowed=list(exc.allowed)) from None
        if not await repo.move_bed(uow.session, bed_id, b["state"], state, now):
            raise Refused("The bed changed meanwhile; read it again.")
        await repo.refresh_pathway_bed(uow.session, home_id, freed=bed_id if state == "vacant" else None)
        await repo.bump(uow.session)
    return next(x for x in (await home(uow.session, principal, home_id))["beds"] if x["id"] == bed_id)


# --- ranking: the impact risk assessment ----------------------------------------------------------------
@dataclass
class Ranking:
    """One answer for a referral: the assessment, the body shown and whether it is stored already."""

    referral: dict
    assessment: ImpactRiskAssessment
    body: dict
    stored: bool

    @property
    def id(self) -> str:
        return self.body["impact_risk_assessment_id"]

    @property
    def child_records(self) -> list[str]:
        return [self.referral["id"], *(r["referral_id"] for o in self.body["options"] for r in o["resident_risks"])]

    def assessed_event(self) -> ImpactRiskAssessed:
        top = self.assessment.ranked[0].home.id if self.assessment.ranked else None
        return ImpactRiskAssessed(referral_id=uuid.UUID(self.referral["id"]), rules_version=self.body["rules_version"],
                                  homes_considered=self.assessment.homes_considered,
                                  homes_ranked=len(self.assessment.ranked), top_home_id=uuid.UUID(top) if top else None)


def _child(referral: dict, as_of: date) -> Child:
    return Child(ref=referral["id"], age=age_on(referral["date_of_birth"], as_of), sex=referral["sex"],
                 codes=repo.child_codes(referral["needs"], referral["risks"]),
                 outward_code=referral["home_outward_code"], requirements=Requirements.of(referral.get("requirements")))


async def _assess(session: AsyncSession, snapshot: HomesSnapshot, referral: dict, as_of: date,
                  now: datetime) -> ImpactRiskAssessment:
    return assess(_child(referral, as_of), await snapshot.homes(session, as_of, now), load_rules())


async def rank(session: AsyncSession, snapshot: HomesSnapshot, referral_id: str, *, as_of: date, now: datetime,
               limit: int | None = None) -> Ranking:
    """Hard limits first (counted), then every remaining home scored against each current resident, explained
    term by term. Reads only: a reservation past its deadline counts as a free Pathway Bed without being
    lapsed here. Missing until matching has received the referral's event."""
    referral = await repo.get_referral(session, referral_id)
    if referral is None:
        raise Missing("referral")
    if referral.get("kind") == "outreach":
        return await rank_teams(session, referral, as_of=as_of, limit=limit)
    assessment = await _assess(session, snapshot, referral, as_of, now)
    body = answer(assessment, referral_status=referral["status"], received_at=referral["received_at"], as_of=as_of,
                  limit=limit or matching_settings().default_options)
    stored = await repo.impact_risk_assessment_stored(session, body["impact_risk_assessment_id"])
    return Ranking(referral, assessment, body, stored)


async def restriction_marker(session: AsyncSession, principal: Principal, referral_id: str) -> dict | None:
    """The restriction of processing in force on the child's record, as the hub's marker (decision 0006); it is
    shown beside the ranking, never part of it (the answer's id hashes the ranking alone)."""
    return await repo.restriction_marker(session, principal, referral_id)


async def record_ranking(uow: UnitOfWork, ranking: Ranking, now: datetime, *, announce: bool = True) -> bool:
    """Store an answer the hub records (POST .../matches) and announce it (impact_risk.assessed); True when
    this call stored it (two requests storing the same answer at once store and announce it once). A decision
    made without a recorded answer stores the answer it was made on without announcing it (announce=False):
    the decision's own event tells the council, and the referral goes straight to its decision."""
    stored = await repo.store_impact_risk_assessment(uow.session, dict(
        id=ranking.id, referral_id=ranking.referral["id"], rules_version=ranking.body["rules_version"],
        body=canonical(ranking.body).decode(), created_at=now))
    if stored and announce:
        await uow.emit(ranking.assessed_event(), subject_id=ranking.referral["id"], la_code=ranking.referral["la_code"])
    return stored


# --- admission decisions --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Decision:
    referral_id: str
    decision: str                                # accept | decline
    home_id: str | None = None
    bed_id: str | None = None
    planned_start_date: date | None = None
    reason_code: str | None = None
    reason_text: str | None = None
    fee_basis_hint: str | None = None
    impact_risk_assessment_id: str | None = None
    team_id: str | None = None                   # outreach: the team accepting the child
    outreach_basis: str | None = None            # outreach: fixed_fee | weekly (default: the referral's)
    planned_weeks: int | None = None             # outreach: default 6 for a fixed fee


async def decide(uow: UnitOfWork, snapshot: HomesSnapshot, principal: Principal, d: Decision,
                 now: datetime) -> dict:
    """The provider's decision, with its veto; one unit of work for all of it.

    An accept reserves the home's Pathway Bed with one conditional UPDATE (state vacant and still the Pathway
    Bed), so of two accepts racing for one bed exactly one wins and the other is Refused; the referral leaves
    awaiting_decision by another conditional UPDATE, so one referral is never accepted twice. A hard limit
    other than the bed refuses the accept. The answer shown when deciding (by its id, or the current one) is
    stored with the decision."""
    settings = matching_settings()
    today = now.date()
    if d.decision == "accept" and d.planned_start_date < today:
        raise Invalid("body.planned_start_date", "not_in_the_past", "the planned start cannot be before today")
    session = uow.session
    referral = await repo.get_referral(session, d.referral_id)
    if referral is None:
        raise Missing("referral")
    if referral.get("kind") == "outreach":
        return await decide_outreach(uow, principal, referral, d, now)
    if d.team_id is not None:
        raise Invalid("body.team_id", "bed_referral", "a bed referral is accepted into a home (home_id), not a team")
    assessment = await _assess(session, snapshot, referral, today, now)
    current = Ranking(referral, assessment, answer(assessment, referral_status=referral["status"],
                                                   received_at=referral["received_at"], as_of=today,
                                                   limit=settings.default_options), False)
    shown = None
    if d.impact_risk_assessment_id:
        stored = await repo.impact_risk_assessment_of(session, d.impact_risk_assessment_id, d.referral_id)
        if stored is not None:
            shown = json.loads(stored)
        elif d.impact_risk_assessment_id != current.id:  # shown by a GET (not recorded) and still current: fine
            raise Invalid("body.impact_risk_assessment_id", "unknown_impact_risk_assessment",
                          "not an impact risk assessment of this referral (recorded, or the current one); "
                          f"GET /v1/referrals/{d.referral_id}/matches shows the current one")
    if referral["status"] != "awaiting_decision":
        raise Refused(f"The referral is {referral['status']}; only a referral awaiting decision can be decided.",
                      referral_status=referral["status"], allowed=[])
    if shown is None:
        await record_ranking(uow, current, now, announce=False)
        shown = current.body

    admission_id = str(uuid.uuid4())
    values = dict(id=admission_id, referral_id=d.referral_id, la_code=referral["la_code"],
                  impact_risk_assessment_id=shown.get("impact_risk_assessment_id") or shown.get("assessment_id"),
                  impact_risk_assessment=shown, decided_by=principal.client_id, decided_at=now)
    if d.decision == "accept":
        home_found = next((h for h in await snapshot.homes(session, today, now) if h.id == d.home_id), None)
        if home_found is None:
            raise Missing("home")
        limit = failed_limit(assessment.child, home_found, assessment.rules,
                             required_categories(assessment.child, assessment.rules))
        if limit is not None and limit != "no_free_pathway_bed":
            raise Refused(f"The home cannot take this child: {limit}.", hard_limit=limit, allowed=["decline"])
        # a reservation past its deadline that the periodic job has not lapsed yet is lapsed here, so that the
        # bed the ranking offered (it counts such a bed as free) can be taken
        for bed in await repo.overdue_reservations(session, now, home_id=d.home_id):
            if await repo.lapse_reservation(session, bed.id, bed.admission_id, bed.reserved_for, now):
                await repo.refresh_pathway_bed(session, d.home_id)
        until = datetime.combine(d.planned_start_date, time(0), tzinfo=timezone.utc) + timedelta(
            hours=settings.reservation_grace_hours)
        bed_id = await repo.reserve_pathway_bed(session, d.home_id, d.bed_id, referral_id=d.referral_id,
                                                admission_id=admission_id, until=until, now=now)
        if bed_id is None:
            raise Refused("The home's Pathway Bed is not free (reserved, occupied or none).",
                          allowed=["decline", "accept into another home"])
        await _move_referral(session, d.referral_id, "accepted", now)
        fee_basis = d.fee_basis_hint or "enhanced_assessment"
        await repo.insert_admission(session, dict(
            decision="accepted", status="reserved", home_id=d.home_id, bed_id=bed_id,
            planned_start_date=d.planned_start_date, reserved_until=until, fee_basis_hint=fee_basis, **values))
        await repo.bump(session)
        place = await repo.home_place(session, d.home_id) or {}
        await uow.emit(AdmissionAccepted(admission_id=uuid.UUID(admission_id), referral_id=uuid.UUID(d.referral_id),
                                         home_id=uuid.UUID(d.home_id), bed_id=uuid.UUID(bed_id),
                                         planned_start_date=d.planned_start_date, fee_basis_hint=fee_basis,
                                         home_urn=place.get("urn"), home_postcode=place.get("postcode")),
                       subject_id=d.referral_id, la_code=referral["la_code"])
    else:
        await _move_referral(session, d.referral_id, "declined", now)
        await repo.insert_admission(session, dict(decision="declined", status="declined", home_id=d.home_id,
                                                  reason_code=d.reason_code, reason_text=d.reason_text, **values))
        await uow.emit(AdmissionDeclined(admission_id=uuid.UUID(admission_id), referral_id=uuid.UUID(d.referral_id),
                                         reason_code=d.reason_code, reason_text=d.reason_text),
                       subject_id=d.referral_id, la_code=referral["la_code"])
    return await repo.get_admission(session, admission_id)


async def _move_referral(session: AsyncSession, referral_id: str, status: str, now: datetime) -> None:
    if not await repo.move_referral(session, referral_id, "awaiting_decision", status, now):
        raise Refused("The referral was decided by a concurrent request.", allowed=[])


async def _with_fees(session: AsyncSession, rows: list[dict]) -> list[dict]:
    """An accepted admission shows the weekly fee billing last told for its child."""
    fees = await repo.weekly_fees_of(session, [r["referral_id"] for r in rows if r["decision"] == "accepted"])
    return [{**r, **weekly_fee_view(fees.get(r["referral_id"]) if r["decision"] == "accepted" else None,
                                         r["id"])} for r in rows]


async def admission(session: AsyncSession, admission_id: str) -> dict:
    row = await repo.get_admission(session, admission_id)
    if row is None:
        raise Missing("admission")
    return (await _with_fees(session, [row]))[0]


async def admissions(session: AsyncSession, referral_id: str | None, limit: int = 200) -> list[dict]:
    return await _with_fees(session, await repo.list_admissions(session, referral_id, limit))


# --- reservation lapse (the periodic job's one operation) ----------------------------------------------
async def lapse_reservations(uow: UnitOfWork, now: datetime) -> int:
    """A reserved bed whose child has not arrived by its deadline returns to vacant (it stays the Pathway Bed),
    its admission lapses and the referral awaits a decision again. Per-bed conditional UPDATEs: safe when
    several replicas sweep at once."""
    lapsed = 0
    for bed in await repo.overdue_reservations(uow.session, now):
        lapsed += await repo.lapse_reservation(uow.session, bed.id, bed.admission_id, bed.reserved_for, now)
    if lapsed:
        await repo.bump(uow.session)
    return lapsed


# --- the read models the consumers keep -----------------------------------------------------------------
CLOSED_BY_THE_REFERRAL_SERVICE = ("expired", "withdrawn")


def _referral_values(date_of_birth: date, sex: str, home_outward_code: str | None, needs: Iterable[NeedOrRisk],
                     risks: Iterable[NeedOrRisk], urgency: str, wanted_start_date: date | None, kind: str = "bed",
                     current_setting: str | None = None, at_risk: Iterable[str] = (),
                     outreach_basis: str | None = None, outreach_planned_weeks: int | None = None,
                     requirements: dict | None = None) -> dict:
    """The read model's values; a retired code in an old event (exploitation_risk) is read as its successors."""
    return dict(date_of_birth=date_of_birth, sex=sex, home_outward_code=home_outward_code,
                needs=expand_deprecated([n.model_dump() for n in needs]),
                risks=expand_deprecated([r.model_dump() for r in risks]), urgency=urgency,
                wanted_start_date=wanted_start_date, kind=kind, current_setting=current_setting,
                at_risk=list(at_risk), outreach_basis=outreach_basis, outreach_planned_weeks=outreach_planned_weeks,
                requirements=requirements)


async def referral_received(uow: UnitOfWork, referral_id: str, la_code: str, received_at: datetime,
                            at: datetime, **facts) -> None:
    await repo.insert_referral_if_new(uow.session, dict(id=referral_id, la_code=la_code, status="awaiting_decision",
                                                        received_at=received_at, updated_at=at,
                                                        **_referral_values(**facts)))


async def referrals_received(uow: UnitOfWork, received: list[tuple[str, str, datetime, datetime, dict]]) -> None:
    """referral_received for many referrals at once (id, council, received_at, event time, facts), in order."""
    await repo.insert_referrals_if_new(uow.session, [
        dict(id=referral_id, la_code=la_code, status="awaiting_decision", received_at=received_at, updated_at=at,
             **_referral_values(**facts)) for referral_id, la_code, received_at, at, facts in received])


async def referral_updated(uow: UnitOfWork, referral_id: str, status: str, at: datetime, **facts) -> None:
    await repo.update_referral(uow.session, referral_id, dict(updated_at=at, **_referral_values(**facts)))
    if status in CLOSED_BY_THE_REFERRAL_SERVICE:  # expired (or withdrawn): no longer awaiting a decision
        await repo.move_referral(uow.session, referral_id, "awaiting_decision", status, at)
    if await repo.referral_is_resident(uow.session, referral_id):
        await repo.bump(uow.session)  # a resident's needs and risks changed: the homes snapshot is stale


async def referral_withdrawn(uow: UnitOfWork, referral_id: str, now: datetime) -> None:
    """A reserved bed is released at once (it stays, or becomes, the Pathway Bed)."""
    await repo.update_referral(uow.session, referral_id, dict(status="withdrawn", updated_at=now))
    held = await repo.release_reservations_of(uow.session, referral_id, now)
    for bed in held:
        await repo.refresh_pathway_bed(uow.session, bed.home_id, freed=bed.id)
    if held:
        await repo.set_admissions_status(uow.session, referral_id, ("reserved",), "withdrawn")
        await repo.bump(uow.session)


async def placement_started(uow: UnitOfWork, *, placement_id: str, referral_id: str, home_id: str, bed_id: str,
                            start_date: date, now: datetime) -> None:
    """The child arrived: the bed is occupied and another vacant bed (if any) becomes the Pathway Bed."""
    await repo.insert_resident_if_new(uow.session, dict(placement_id=placement_id, referral_id=referral_id,
                                                        home_id=home_id, bed_id=bed_id, phase="phase_1",
                                                        start_date=start_date, end_date=None))
    await repo.occupy_bed(uow.session, bed_id, placement_id, now)
    await repo.set_admissions_status(uow.session, referral_id, ("reserved", "lapsed"), "arrived")
    await repo.update_referral(uow.session, referral_id, dict(status="placed", updated_at=now))
    await repo.refresh_pathway_bed(uow.session, home_id)
    await repo.bump(uow.session)


async def phase_moved(uow: UnitOfWork, placement_id: str, to_phase: str) -> None:
    await repo.set_resident(uow.session, placement_id, {"phase": to_phase})
    await repo.bump(uow.session)


async def placement_ended(uow: UnitOfWork, *, placement_id: str, home_id: str, bed_id: str, end_date: date,
                          now: datetime) -> None:
    """The freed bed becomes the home's next Pathway Bed."""
    await repo.set_resident(uow.session, placement_id, {"end_date": end_date})
    await repo.free_bed(uow.session, bed_id, placement_id, now)
    await repo.refresh_pathway_bed(uow.session, home_id, freed=bed_id)
    await repo.bump(uow.session)


# --- the demo seed ----------------------------------------------------------------------------------------
async def seed_live_home(uow: UnitOfWork, values: dict, bed_ids: list[str], now: datetime) -> bool:
    """A live home with its checklist done (the demo's blueprint home); False when its URN exists already."""
    if await repo.home_by_urn(uow.session, values["urn"]) is not None:
        return False
    await repo.insert_home(uow.session, {**values, "status": "live", "version": 1, "went_live_at": now,
                                         "created_at": now, "updated_at": now},
                           now, checklist_done_by="demo-seed", bed_ids=bed_ids)
    await repo.refresh_pathway_bed(uow.session, values["id"])
    await repo.bump(uow.session)
    await uow.emit(HomeOnboarded(home_id=uuid.UUID(values["id"]), urn=values["urn"],
                                 postcode_district=values["postcode_district"],
                                 registered_places=values["registered_places"], age_min=values["age_min"],
                                 age_max=values["age_max"]), subject_id=values["id"], la_code=None)
    return True


# --- the weekly fee billing tells (placement.fee_applied) -------------------------------------------------
async def weekly_fee_applied(uow: UnitOfWork, payload, now: datetime) -> None:
    """Kept for the admission's and the placement's reads (the newest notice per child wins)."""
    await repo.record_weekly_fee(uow.session, payload, now)


# --- outreach (issue 16): teams instead of homes ------------------------------------------------------------
TEAM_FIELDS = ("id", "name", "region", "base_postcode_district", "practitioners", "caseload_limit", "caseload",
               "specialisms", "reach_miles", "status", "version", "created_at", "updated_at")
TEAM_IDENTITY = ("name", "region", "base_postcode_district", "practitioners", "caseload_limit", "specialisms",
                 "reach_miles")


def _team(row: dict) -> team_rules.Team:
    return team_rules.Team(id=row["id"], name=row["name"], region=row["region"],
                           outward_code=row["base_postcode_district"], practitioners=row["practitioners"],
                           caseload_limit=row["caseload_limit"], caseload=row["caseload"],
                           specialisms=frozenset(row["specialisms"]), reach_miles=row["reach_miles"],
                           active=row["status"] == "active")


def team_view(row: dict) -> dict:
    """A team as the hub reads it, with its capacity left and why it is not offered now (if it is not)."""
    not_offered = []
    if row["status"] != "active":
        not_offered.append({"reason": "team_suspended", "detail": "the team is suspended: it takes no new referrals",
                            "next_step": f"PATCH /v1/outreach-teams/{row['id']} with status active"})
    if row["caseload"] >= row["caseload_limit"]:
        not_offered.append({"reason": "caseload_full", "detail": f"{row['caseload']} open interventions; the limit "
                                                                 f"is {row['caseload_limit']}",
                            "next_step": "an intervention closing frees a place, or raise caseload_limit"})
    return {**{k: row[k] for k in TEAM_FIELDS}, "specialisms": sorted(row["specialisms"]),
            "capacity_left": max(0, row["caseload_limit"] - row["caseload"]), "not_offered_because": not_offered}


async def team(session: AsyncSession, principal: Principal, team_id: str) -> dict:
    row = await repo.get_team(session, principal, team_id)
    if row is None:
        raise Missing("outreach team")
    return team_view(row)


async def list_teams(session: AsyncSession, principal: Principal, region: str | None = None,
                     status: str | None = None) -> list[dict]:
    return [team_view(r) for r in await repo.list_teams(session, principal, region=region, status=status)]


def _team_values(fields: dict) -> dict:
    values = dict(fields)
    if values.get("specialisms") is not None:
        values["specialisms"] = sorted(set(values["specialisms"]))
    return values


async def create_team(uow: UnitOfWork, principal: Principal, fields: dict, now: datetime) -> tuple[dict, bool]:
    """A new team, active, with an empty caseload. A retry with the same facts answers the team already made
    (created False); another team with the name is refused."""
    values = _team_values(fields)
    existing = await repo.team_by_name(uow.session, values["name"])
    if existing is not None:
        if all(existing[k] == values.get(k, existing[k]) for k in TEAM_IDENTITY):
            return team_view(existing), False
        raise Refused(f"An outreach team named {values['name']!r} exists already.", team_id=existing["id"])
    values.update(id=str(uuid.uuid4()), caseload=0, version=1, created_at=now, updated_at=now,
                  status=values.get("status") or "active")
    await repo.insert_team(uow.session, values)
    return team_view(values), True


async def update_team(uow: UnitOfWork, principal: Principal, team_id: str, changes: dict,
                      precondition: Precondition, now: datetime) -> dict:
    """Only the fields sent change. suspended takes the team out of matching at once (its open interventions
    carry on); a caseload limit below the open caseload offers the team no new referral until enough close."""
    row = await repo.get_team(uow.session, principal, team_id, for_update=True)
    if row is None:
        raise Missing("outreach team")
    if not precondition(row["version"]):
        raise Stale(row["version"], "outreach team")
    values = _team_values(changes)
    if values.get("name") and values["name"] != row["name"]:
        other = await repo.team_by_name(uow.session, values["name"])
        if other is not None:
            raise Refused(f"An outreach team named {values['name']!r} exists already.", team_id=other["id"])
    if not values or all(row[k] == v for k, v in values.items()):
        return team_view(row)
    if not await repo.update_team(uow.session, team_id, row["version"], {**values, "updated_at": now}):
        raise Stale(row["version"] + 1, "outreach team")
    return await team(uow.session, principal, team_id)


def _outreach_child(referral: dict) -> team_rules.OutreachChild:
    codes = {x["code"] for x in [*(referral["needs"] or []), *(referral["risks"] or [])]}
    return team_rules.OutreachChild(ref=referral["id"], outward_code=referral["home_outward_code"],
                                    codes=frozenset(codes | set(referral.get("at_risk") or [])),
                                    current_setting=referral.get("current_setting"))


@dataclass
class TeamAnswer:
    """One answer for an outreach referral: the teams ranked, the body shown and whether it is stored already.
    The same interface as Ranking, so recording and deciding treat both alike."""

    referral: dict
    ranking: team_rules.TeamRanking
    body: dict
    stored: bool

    @property
    def id(self) -> str:
        return self.body["impact_risk_assessment_id"]

    @property
    def child_records(self) -> list[str]:
        return [self.referral["id"]]  # teams hold counts, never other children

    def assessed_event(self) -> ImpactRiskAssessed:
        top = self.ranking.ranked[0].team.id if self.ranking.ranked else None
        return ImpactRiskAssessed(referral_id=uuid.UUID(self.referral["id"]), rules_version=self.body["rules_version"],
                                  homes_considered=0, homes_ranked=0, kind="outreach",
                                  teams_considered=self.ranking.teams_considered,
                                  teams_ranked=len(self.ranking.ranked), top_team_id=uuid.UUID(top) if top else None)


def _team_answer(referral: dict, ranking: team_rules.TeamRanking, as_of: date, limit: int | None) -> dict:
    body = ranking.to_dict(limit=limit)
    body.update(referral_status=referral["status"], received_at=referral["received_at"].isoformat(),
                as_of=as_of.isoformat(), current_setting=referral.get("current_setting"),
                child_outward_code=referral["home_outward_code"])
    answer_id = hashlib.sha256(canonical(body)).hexdigest()
    return {"impact_risk_assessment_id": answer_id, **body}


async def rank_teams(session: AsyncSession, referral: dict, *, as_of: date, limit: int | None = None) -> TeamAnswer:
    """The outreach teams for an outreach referral: suspended, full and out-of-reach teams excluded (counted and
    explained), the rest ranked by capacity left, distance and specialism fit. Reads only."""
    ranking = team_rules.rank_teams(_outreach_child(referral), [_team(r) for r in await repo.all_teams(session)])
    body = _team_answer(referral, ranking, as_of, limit or matching_settings().default_options)
    stored = await repo.impact_risk_assessment_stored(session, body["impact_risk_assessment_id"])
    return TeamAnswer(referral, ranking, body, stored)


async def decide_outreach(uow: UnitOfWork, principal: Principal, referral: dict, d: Decision, now: datetime) -> dict:
    """The hub's decision on an outreach referral, with its veto: accept it for a team (the team's caseload
    takes the child: one conditional UPDATE, so of two accepts racing for a team's last place one wins) and emit
    outreach.accepted with the basis and planned weeks, or decline it with a coded reason (admission.declined).
    A hard limit (suspended, caseload full, outside reach) refuses the accept, naming the decline reason to use."""
    session, today = uow.session, now.date()
    if d.decision == "accept":
        if d.home_id is not None or d.team_id is None:
            raise Invalid("body.team_id", "outreach_referral",
                          "an outreach referral is accepted for an outreach team: send team_id (not home_id)")
        if d.planned_start_date < today:
            raise Invalid("body.planned_start_date", "not_in_the_past", "the planned start cannot be before today")
    current = await rank_teams(session, referral, as_of=today)
    shown = None
    if d.impact_risk_assessment_id:
        stored = await repo.impact_risk_assessment_of(session, d.impact_risk_assessment_id, d.referral_id)
        if stored is not None:
            shown = json.loads(stored)
        elif d.impact_risk_assessment_id != current.id:
            raise Invalid("body.impact_risk_assessment_id", "unknown_impact_risk_assessment",
                          "not a ranking of this referral's teams (recorded, or the current one); "
                          f"GET /v1/referrals/{d.referral_id}/matches shows the current one")
    if referral["status"] != "awaiting_decision":
        raise Refused(f"The referral is {referral['status']}; only a referral awaiting decision can be decided.",
                      referral_status=referral["status"], allowed=[])
    admission_id = str(uuid.uuid4())
    values = dict(id=admission_id, referral_id=d.referral_id, la_code=referral["la_code"],
                  decided_by=principal.client_id, decided_at=now)
    if d.decision == "accept":
        row = await repo.get_team(session, principal, d.team_id)
        if row is None:
            raise Missing("outreach team")
        limit = team_rules.failed_limit(_outreach_child(referral), _team(row))
        if limit is not None:
            detail = team_rules.explain_limit(limit, _outreach_child(referral), _team(row))["detail"]
            raise Refused(f"The team cannot take this child: {detail}.", hard_limit=limit,
                          allowed=[f"decline with reason_code {team_rules.DECLINE_FOR_LIMIT[limit]}",
                                   "accept for another team"])
        basis = d.outreach_basis or referral.get("outreach_basis") or "fixed_fee"
        weeks = team_rules.planned_weeks_for(basis, d.planned_weeks, referral.get("outreach_planned_weeks"))
        if weeks is None:
            raise Invalid("body.planned_weeks", "required_for_weekly",
                          "weekly outreach needs planned_weeks (the referral asked for none)")
        if not await repo.take_caseload_place(session, d.team_id, now):
            raise Refused("The team's caseload filled meanwhile.", hard_limit="caseload_full",
                          allowed=["decline with reason_code no_team_capacity", "accept for another team"])
        await _move_referral(session, d.referral_id, "accepted", now)
        if shown is None:
            await record_ranking(uow, current, now, announce=False)
            shown = current.body
        await repo.insert_admission(session, dict(
            decision="accepted", status="open", team_id=d.team_id, planned_start_date=d.planned_start_date,
            outreach_basis=basis, planned_weeks=weeks, impact_risk_assessment_id=shown["impact_risk_assessment_id"],
            impact_risk_assessment=shown, **values))
        await repo.open_caseload(session, dict(admission_id=admission_id, team_id=d.team_id,
                                               referral_id=d.referral_id, la_code=referral["la_code"], basis=basis,
                                               planned_weeks=weeks, start_date=d.planned_start_date, opened_at=now,
                                               closed_at=None, intervention_id=None, outcome=None))
        await uow.emit(OutreachAccepted(admission_id=uuid.UUID(admission_id), referral_id=uuid.UUID(d.referral_id),
                                        team_id=uuid.UUID(d.team_id), region=row["region"], basis=basis,
                                        planned_weeks=weeks, planned_start_date=d.planned_start_date),
                       subject_id=d.referral_id, la_code=referral["la_code"])
    else:
        await _move_referral(session, d.referral_id, "declined", now)
        if shown is None:
            await record_ranking(uow, current, now, announce=False)
            shown = current.body
        await repo.insert_admission(session, dict(decision="declined", status="declined", team_id=d.team_id,
                                                  reason_code=d.reason_code, reason_text=d.reason_text,
                                                  impact_risk_assessment_id=shown["impact_risk_assessment_id"],
                                                  impact_risk_assessment=shown, **values))
        await uow.emit(AdmissionDeclined(admission_id=uuid.UUID(admission_id), referral_id=uuid.UUID(d.referral_id),
                                         reason_code=d.reason_code, reason_text=d.reason_text),
                       subject_id=d.referral_id, la_code=referral["la_code"])
    return await repo.get_admission(session, admission_id)


async def intervention_closed(uow: UnitOfWork, referral_id: str, *, intervention_id: str, outcome: str,
                              now: datetime) -> bool:
    """An intervention closed (assessment's intervention.closed): its team gets the caseload place back, once."""
    return await repo.close_caseload(uow.session, referral_id, intervention_id=intervention_id, outcome=outcome,
                                     now=now) is not None
