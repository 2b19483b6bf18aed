"""All of matching's SQL: homes and their checklist and beds, the Pathway Bed, the referrals and residents
read models, stored impact risk assessments, admissions, reservation lapses, and the homes snapshot the
assessment reads. Every change to homes, beds or residents bumps matching_state.homes_version in the same
transaction, so every replica can tell when its in-memory snapshot is stale. Nothing here commits."""
from __future__ import annotations

import asyncio
import bisect
import gc
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import restrictions as restriction_rules
from libs.common.ages import age_on
from libs.common.auth import Principal
from libs.common.db import insert_for, insert_many, member_of
from libs.common import weekly_fees as weekly_fees_model

from .domain.beds import ONBOARDING_CHECKLIST, Bed, choose_pathway_bed
from .domain.model import Child, Home, Requirements, Resident
from .tables import (admissions, beds, checklist_items, homes, impact_risk_assessments, matching_state,
                     outreach_caseload, outreach_teams, referrals, residents, restricted_children, weekly_fees)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# --- the homes version ------------------------------------------------------------------------------
async def bump(session: AsyncSession) -> None:
    await session.execute(update(matching_state).where(matching_state.c.id == 1)
                          .values(homes_version=matching_state.c.homes_version + 1))


# the statements of the ranking's reads (the hub's most frequent request), built once and run with bind
# parameters: building each statement and its cache key every time cost more CPU than running it
_HOMES_VERSION = select(matching_state.c.homes_version).where(matching_state.c.id == 1)
_REFERRAL = select(referrals).where(referrals.c.id == bindparam("referral_id"))
_ANSWER_STORED = select(impact_risk_assessments.c.id).where(impact_risk_assessments.c.id == bindparam("answer_id"))


async def homes_version(session: AsyncSession) -> int:
    return (await session.execute(_HOMES_VERSION)).scalar_one()


# --- homes --------------------------------------------------------------------------------------------
def readable_homes(principal: Principal) -> Select:
    """Every read of a home starts here: a home_manager sees only their own homes (another is 404)."""
    stmt = select(homes)
    if principal.role == "home_manager" and not principal.is_hub:
        stmt = stmt.where(homes.c.id.in_(list(principal.homes)))
    return stmt


async def get_home(session: AsyncSession, principal: Principal, home_id: str, *,
                   for_update: bool = False) -> dict | None:
    stmt = readable_homes(principal).where(homes.c.id == home_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).mappings().first()
    return dict(row) if row else None


async def home_place(session: AsyncSession, home_id: str) -> dict | None:
    """A home's URN and postcode (what an accepted admission tells the placement, for the SSDA903 episode)."""
    row = (await session.execute(select(homes.c.urn, homes.c.postcode).where(homes.c.id == home_id))).mappings().first()
    return dict(row) if row else None


async def home_by_urn(session: AsyncSession, urn: str) -> dict | None:
    row = (await session.execute(select(homes).where(homes.c.urn == urn))).mappings().first()
    return dict(row) if row else None


async def homes_with_parts(session: AsyncSession, stmt: Select) -> list[tuple[dict, dict[str, dict], list[dict]]]:
    """Each home the statement selects with its checklist (by item), its beds and how many of its children are
    in Phase 1 (`in_phase_1`): four queries in all, which agree only in one snapshot (Database.snapshot())."""
    rows = [dict(r) for r in (await session.execute(stmt.order_by(homes.c.name, homes.c.id))).mappings()]
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    items: dict[str, dict[str, dict]] = {}
    for r in (await session.execute(select(checklist_items).where(checklist_items.c.home_id.in_(ids)))).mappings():
        items.setdefault(r["home_id"], {})[r["item"]] = dict(r)
    home_beds: dict[str, list[dict]] = {}
    for r in (await session.execute(select(beds).where(beds.c.home_id.in_(ids))
                                    .order_by(beds.c.label, beds.c.id))).mappings():
        home_beds.setdefault(r["home_id"], []).append(dict(r))
    # children in Phase 1 now (the home's Phase 1 limit): one more query
    in_phase_1 = dict((await session.execute(
        select(residents.c.home_id, func.count()).where(residents.c.home_id.in_(ids), residents.c.end_date.is_(None),
                                                        residents.c.phase == "phase_1")
        .group_by(residents.c.home_id))).all())
    for r in rows:
        r["in_phase_1"] = int(in_phase_1.get(r["id"], 0))
    return [(r, items.get(r["id"], {}), home_beds.get(r["id"], [])) for r in rows]


async def home_of_council(session: AsyncSession, la_code: str, home_id: str) -> dict | None:
    """The home, if the council has a child there (an accepted admission reserved or arrived), else None."""
    placed = select(admissions.c.id).where(admissions.c.home_id == home_id, admissions.c.la_code == la_code,
                                           admissions.c.decision == "accepted",
                                           admissions.c.status.in_(("reserved", "arrived"))).exists()
    row = (await session.execute(select(homes).where(homes.c.id == home_id, placed))).mappings().first()
    return dict(row) if row else None


async def delete_onboarding_home(session: AsyncSession, home_id: str) -> None:
    """A home still onboarding, with its checklist and beds (nothing else refers to it)."""
    await session.execute(checklist_items.delete().where(checklist_items.c.home_id == home_id))
    await session.execute(beds.delete().where(beds.c.home_id == home_id))
    await session.execute(homes.delete().where(homes.c.id == home_id, homes.c.status == "onboarding"))


async def insert_home(session: AsyncSession, values: dict, now: datetime, *, checklist_done_by: str | None = None,
                      bed_ids: list[str] | None = None) -> None:
    """The home, its checklist (open, or done by `checklist_done_by`) and one vacant bed per registered place."""
    await session.execute(homes.insert().values(**values))
    done = checklist_done_by is not None
    await session.execute(checklist_items.insert(), [
        dict(home_id=values["id"], item=item, done=done, confirmed_by=checklist_done_by,
             confirmed_at=now if done else None, note=None) for item in ONBOARDING_CHECKLIST])
    ids = bed_ids or [str(uuid.uuid4()) for _ in range(values["registered_places"])]
    await add_beds(session, values["id"], 0, ids, now)


async def add_beds(session: AsyncSession, home_id: str, existing: int, ids: list[str], now: datetime) -> None:
    if ids:
        await session.execute(beds.insert(), [
            dict(id=bed_id, home_id=home_id, label=f"Bed {existing + n}", state="vacant", is_pathway=False,
                 reserved_for=None, reserved_until=None, admission_id=None, placement_id=None, updated_at=now)
            for n, bed_id in enumerate(ids, start=1)])


async def count_beds(session: AsyncSession, home_id: str) -> int:
    return len((await session.execute(select(beds.c.id).where(beds.c.home_id == home_id))).all())


async def update_home(session: AsyncSession, home_id: str, version: int, values: dict[str, Any]) -> bool:
    """One conditional UPDATE on the version read: False when another change got there first."""
    result = await session.execute(update(homes).where(and_(homes.c.id == home_id, homes.c.version == version))
                                   .values(**values, version=version + 1))
    return result.rowcount == 1


async def go_live(session: AsyncSession, home_id: str, version: int, now: datetime) -> bool:
    result = await session.execute(update(homes).where(and_(homes.c.id == home_id, homes.c.status == "onboarding"))
                                   .values(status="live", went_live_at=now, updated_at=now, version=version + 1))
    return result.rowcount == 1


async def checklist_item(session: AsyncSession, home_id: str, item: str) -> dict | None:
    row = (await session.execute(select(checklist_items).where(and_(
        checklist_items.c.home_id == home_id, checklist_items.c.item == item)))).mappings().first()
    return dict(row) if row else None


async def update_checklist_item(session: AsyncSession, home_id: str, item: str, values: dict) -> None:
    await session.execute(update(checklist_items).where(and_(
        checklist_items.c.home_id == home_id, checklist_items.c.item == item)).values(**values))


async def done_items(session: AsyncSession, home_id: str) -> set[str]:
    return {r.item for r in (await session.execute(select(checklist_items.c.item).where(and_(
        checklist_items.c.home_id == home_id, checklist_items.c.done)))).all()}


# --- beds and the Pathway Bed ---------------------------------------------------------------------------
async def get_bed(session: AsyncSession, home_id: str, bed_id: str) -> dict | None:
    row = (await session.execute(select(beds).where(and_(beds.c.id == bed_id, beds.c.home_id == home_id))))\
        .mappings().first()
    return dict(row) if row else None


async def move_bed(session: AsyncSession, bed_id: str, from_state: str, to_state: str, now: datetime) -> bool:
    result = await session.execute(update(beds).where(and_(beds.c.id == bed_id, beds.c.state == from_state))
                                   .values(state=to_state, is_pathway=False, updated_at=now))
    return result.rowcount == 1


async def refresh_pathway_bed(session: AsyncSession, home_id: str, freed: str | None = None) -> str | None:
    """Keep exactly one Pathway Bed in a live home with a vacancy (none otherwise)."""
    live = (await session.execute(select(homes.c.status).where(homes.c.id == home_id))).scalar() == "live"
    rows = (await session.execute(select(beds.c.id, beds.c.label, beds.c.state, beds.c.is_pathway)
                                  .where(beds.c.home_id == home_id))).all()
    chosen = choose_pathway_bed([Bed(r.id, r.label, r.state, r.is_pathway) for r in rows], live, freed)
    current = [r.id for r in rows if r.is_pathway]
    if current != ([chosen] if chosen else []):
        await session.execute(update(beds).where(and_(beds.c.home_id == home_id, beds.c.is_pathway))
                              .values(is_pathway=False))
        if chosen:
            await session.execute(update(beds).where(beds.c.id == chosen).values(is_pathway=True))
    return chosen


def _overdue(now: datetime):
    return and_(beds.c.state == "reserved", beds.c.reserved_until < now)


async def lapse_reservation(session: AsyncSession, bed_id: str, admission_id: str | None, referral_id: str | None,
                            now: datetime) -> bool:
    """One overdue reservation returns to vacant (the bed stays the Pathway Bed), its admission lapses and its
    referral is awaiting a decision again. One conditional UPDATE: when several replicas try at once, one does it."""
    result = await session.execute(update(beds).where(and_(beds.c.id == bed_id, _overdue(now)))
                                   .values(state="vacant", reserved_for=None, reserved_until=None, admission_id=None,
                                           updated_at=now))
    if not result.rowcount:
        return False
    await session.execute(update(admissions).where(and_(admissions.c.id == admission_id,
                                                        admissions.c.status == "reserved")).values(status="lapsed"))
    await session.execute(update(referrals).where(and_(referrals.c.id == referral_id, referrals.c.status == "accepted"))
                          .values(status="awaiting_decision", updated_at=now))
    return True


async def overdue_reservations(session: AsyncSession, now: datetime, home_id: str | None = None) -> list:
    stmt = select(beds.c.id, beds.c.admission_id, beds.c.reserved_for).where(_overdue(now))
    if home_id is not None:
        stmt = stmt.where(beds.c.home_id == home_id)
    return list((await session.execute(stmt)).all())


async def reserve_pathway_bed(session: AsyncSession, home_id: str, bed_id: str | None, *, referral_id: str,
                              admission_id: str, until: datetime, now: datetime) -> str | None:
    """Reserve the home's Pathway Bed (or the named bed, if it is the Pathway Bed) with one conditional UPDATE
    (still vacant, still the Pathway Bed): of two accepts racing for it, exactly one gets it."""
    free = and_(beds.c.home_id == home_id, beds.c.state == "vacant", beds.c.is_pathway)
    if bed_id:
        free = and_(free, beds.c.id == bed_id)
    bed = (await session.execute(select(beds.c.id).where(free))).first()
    if bed is None:
        return None
    result = await session.execute(update(beds).where(and_(free, beds.c.id == bed.id)).values(
        state="reserved", reserved_for=referral_id, reserved_until=until, admission_id=admission_id, updated_at=now))
    return bed.id if result.rowcount == 1 else None


async def release_reservations_of(session: AsyncSession, referral_id: str, now: datetime) -> list:
    """A withdrawn referral's reserved beds are vacant again; answers (bed id, home id) of each."""
    held = (await session.execute(select(beds.c.id, beds.c.home_id).where(and_(
        beds.c.reserved_for == referral_id, beds.c.state == "reserved")))).all()
    for bed in held:
        await session.execute(update(beds).where(beds.c.id == bed.id).values(
            state="vacant", reserved_for=None, reserved_until=None, admission_id=None, updated_at=now))
    return list(held)


async def occupy_bed(session: AsyncSession, bed_id: str, placement_id: str, now: datetime) -> None:
    await session.execute(update(beds).where(beds.c.id == bed_id).values(
        state="occupied", is_pathway=False, reserved_for=None, reserved_until=None, placement_id=placement_id,
        updated_at=now))


async def free_bed(session: AsyncSession, bed_id: str, placement_id: str, now: datetime) -> None:
    await session.execute(update(beds).where(and_(beds.c.id == bed_id, beds.c.placement_id == placement_id))
                          .values(state="vacant", placement_id=None, updated_at=now))


# --- the referrals read model ---------------------------------------------------------------------------
async def get_referral(session: AsyncSession, referral_id: str) -> dict | None:
    row = (await session.execute(_REFERRAL, {"referral_id": str(referral_id)})).mappings().first()
    return dict(row) if row else None


async def insert_referral_if_new(session: AsyncSession, values: dict) -> None:
    if (await session.execute(select(referrals.c.id).where(referrals.c.id == values["id"]))).first() is None:
        await session.execute(referrals.insert().values(**values))


async def insert_referrals_if_new(session: AsyncSession, rows: list[dict]) -> None:
    """insert_referral_if_new for many: one read, one insert; the first row of an id wins, as one by one."""
    existing = set((await session.execute(select(referrals.c.id).where(
        member_of(session, referrals.c.id, {row["id"] for row in rows})))).scalars())
    new = []
    for row in rows:
        if row["id"] not in existing:
            existing.add(row["id"])
            new.append(row)
    await insert_many(session, referrals, new)


async def update_referral(session: AsyncSession, referral_id: str, values: dict) -> None:
    await session.execute(referrals.update().where(referrals.c.id == referral_id).values(**values))


async def move_referral(session: AsyncSession, referral_id: str, from_status: str, to_status: str,
                        now: datetime) -> bool:
    """One conditional UPDATE, so one referral is never decided twice."""
    result = await session.execute(update(referrals).where(and_(referrals.c.id == referral_id,
                                                                referrals.c.status == from_status))
                                   .values(status=to_status, updated_at=now))
    return result.rowcount == 1


# --- residents --------------------------------------------------------------------------------------------
async def referral_is_resident(session: AsyncSession, referral_id: str) -> bool:
    return (await session.execute(select(residents.c.placement_id).where(and_(
        residents.c.referral_id == referral_id, residents.c.end_date.is_(None))))).first() is not None


async def insert_resident_if_new(session: AsyncSession, values: dict) -> None:
    if (await session.execute(select(residents.c.placement_id)
                              .where(residents.c.placement_id == values["placement_id"]))).first() is None:
        await session.execute(residents.insert().values(**values))


async def set_resident(session: AsyncSession, placement_id: str, values: dict) -> None:
    await session.execute(update(residents).where(residents.c.placement_id == placement_id).values(**values))


async def current_residents(session: AsyncSession, home_id: str) -> list[dict]:
    q = (select(residents, referrals.c.date_of_birth, referrals.c.sex, referrals.c.needs, referrals.c.risks)
         .select_from(residents.outerjoin(referrals, referrals.c.id == residents.c.referral_id))
         .where(and_(residents.c.home_id == home_id, residents.c.end_date.is_(None)))
         .order_by(residents.c.start_date, residents.c.placement_id))
    return [dict(r) for r in (await session.execute(q)).mappings()]


# --- stored impact risk assessments ---------------------------------------------------------------------
async def impact_risk_assessment_stored(session: AsyncSession, answer_id: str) -> bool:
    return (await session.execute(_ANSWER_STORED, {"answer_id": answer_id})).first() is not None


async def impact_risk_assessment_of(session: AsyncSession, answer_id: str, referral_id: str) -> str | None:
    """The stored body (canonical JSON) of an answer shown for this referral."""
    row = (await session.execute(select(impact_risk_assessments.c.body).where(and_(
        impact_risk_assessments.c.id == answer_id, impact_risk_assessments.c.referral_id == referral_id)))).first()
    return row.body if row else None


async def store_impact_risk_assessment(session: AsyncSession, values: dict) -> bool:
    """Insert unless stored already (INSERT ... ON CONFLICT DO NOTHING, so two requests storing the same
    answer at once do not fail); True when this call stored it."""
    result = await session.execute(insert_for(session, impact_risk_assessments).values(**values)
                                   .on_conflict_do_nothing())
    return result.rowcount == 1


# --- admissions -------------------------------------------------------------------------------------------
async def insert_admission(session: AsyncSession, values: dict) -> None:
    await session.execute(admissions.insert().values(**values))


async def get_admission(session: AsyncSession, admission_id: str) -> dict | None:
    row = (await session.execute(select(admissions).where(admissions.c.id == admission_id))).mappings().first()
    return dict(row) if row else None


async def list_admissions(session: AsyncSession, referral_id: str | None, limit: int) -> list[dict]:
    q = select(admissions).order_by(admissions.c.decided_at.desc(), admissions.c.id)
    if referral_id:
        q = q.where(admissions.c.referral_id == referral_id)
    return [dict(r) for r in (await session.execute(q.limit(limit))).mappings()]


async def set_admissions_status(session: AsyncSession, referral_id: str, from_statuses: tuple[str, ...],
                                to_status: str) -> None:
    await session.execute(update(admissions).where(and_(admissions.c.referral_id == referral_id,
                                                        admissions.c.status.in_(from_statuses)))
                          .values(status=to_status))


# --- the homes snapshot -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _HomeRow:
    home: Home
    resident_rows: tuple  # (placement_id, phase, referral_id, date_of_birth, sex, codes, requirements)


class HomesSnapshot:
    """Every home as the assessment sees it, rebuilt only when homes_version moves.

    A reservation past its deadline counts as a free Pathway Bed here, without writing: the periodic job
    (scheduled.py) is what lapses it, and until it runs no read withholds a bed that is free again."""

    def __init__(self):
        self.version: int | None = None
        self._rows: list[_HomeRow] = []
        self._deadlines: list[datetime] = []     # reserved_until of reserved Pathway Beds, ascending
        self._deadline_homes: list[str] = []     # their homes, in the same order
        self._cache: dict[tuple[date, int], list[Home]] = {}
        self._lock = asyncio.Lock()

    async def homes(self, session: AsyncSession, as_of: date, now: datetime) -> list[Home]:
        version = await homes_version(session)
        if version != self.version:
            async with self._lock:
                if version != self.version:
                    self._rows, reserved = await _load(session)
                    self._deadlines = [until for until, _ in reserved]
                    self._deadline_homes = [home_id for _, home_id in reserved]
                    self._cache = {}
                    self.version = version
                    gc.collect()
                    gc.freeze()  # the snapshot is long-lived: keep it out of the collector's full passes
        lapsed = bisect.bisect_left(self._deadlines, now)  # how many reservations are past their deadline
        key = (as_of, lapsed)
        cached = self._cache.get(key)
        if cached is None:
            free_again = set(self._deadline_homes[:lapsed])
            cached = self._cache[key] = [_with_ages(r, as_of, r.home.id in free_again) for r in self._rows]
            if len(self._cache) > 4:
                self._cache.pop(next(iter(self._cache)))
        return cached


def _with_ages(row: _HomeRow, as_of: date, free_again: bool) -> Home:
    home = replace(row.home, pathway_bed_free=True) if free_again else row.home
    if not row.resident_rows:
        return home
    out = []
    for placement_id, phase, referral_id, dob, sex, codes, requirements in row.resident_rows:
        # a resident whose referral matching never saw is scored conservatively: age 0, no codes
        age = age_on(dob, as_of) if dob else 0
        out.append(Resident(placement_id, Child(referral_id, age, sex or "unknown", codes,
                                                requirements=requirements), phase))
    return replace(home, residents=tuple(out))


def child_codes(needs: list[dict], risks: list[dict]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted({(x["code"], x.get("severity", "medium")) for x in [*needs, *risks]}))


async def _load(session: AsyncSession) -> tuple[list[_HomeRow], list[tuple[datetime, str]]]:
    free, reserved = set(), []
    for r in (await session.execute(select(beds.c.home_id, beds.c.state, beds.c.reserved_until).where(
            and_(beds.c.is_pathway, or_(beds.c.state == "vacant", beds.c.state == "reserved"))))).all():
        if r.state == "vacant":
            free.add(r.home_id)
        elif r.reserved_until is not None:
            reserved.append((r.reserved_until, r.home_id))
    res: dict[str, list] = {}
    q = (select(residents.c.placement_id, residents.c.home_id, residents.c.phase, residents.c.referral_id,
                referrals.c.date_of_birth, referrals.c.sex, referrals.c.needs, referrals.c.risks,
                referrals.c.requirements)
         .select_from(residents.outerjoin(referrals, referrals.c.id == residents.c.referral_id))
         .where(residents.c.end_date.is_(None)))
    for r in (await session.execute(q)).all():
        res.setdefault(r.home_id, []).append((r.placement_id, r.phase, r.referral_id, r.date_of_birth, r.sex,
                                              child_codes(r.needs or [], r.risks or []),
                                              Requirements.of(r.requirements)))
    out = []
    for h in (await session.execute(select(homes).order_by(homes.c.id))).mappings():
        home = Home(id=h["id"], name=h["name"], live=h["status"] == "live", registration_status=h["registration_status"],
                    ofsted_rating=h["ofsted_rating"], age_min=h["age_min"], age_max=h["age_max"],
                    sexes=frozenset(h["sexes"]), categories=frozenset(h["categories"]),
                    specialisms=frozenset(h["specialisms"]), outward_code=h["postcode_district"],
                    pathway_bed_free=h["id"] in free, phase_1_limit=h["phase_1_limit"],
                    registered_places=h["registered_places"], pets=bool(h["pets"]),
                    accepts_deprivation_of_liberty=bool(h["accepts_deprivation_of_liberty"]),
                    communication_support=frozenset(h["communication_support"] or ()), adapted=bool(h["adapted"]))
        out.append(_HomeRow(home, tuple(sorted(res.get(h["id"], []), key=lambda t: t[0]))))
    return out, sorted(reserved)


# --- the weekly fee billing tells (placement.fee_applied): the shared read model in libs/common/weekly_fees.py
async def record_weekly_fee(session: AsyncSession, payload, now: datetime) -> bool:
    return await weekly_fees_model.record_weekly_fee(session, weekly_fees, payload, now)


async def weekly_fees_of(session: AsyncSession, referral_ids) -> dict[str, dict]:
    return await weekly_fees_model.weekly_fees_of(session, weekly_fees, referral_ids)



# --- outreach teams and their caseload (issue 16) ---------------------------------------------------------
def readable_teams(principal: Principal) -> Select:
    """Every read of an outreach team starts here: the hub's own data, read by hub roles (the routes keep
    councils out); no child is in it."""
    return select(outreach_teams)


async def get_team(session: AsyncSession, principal: Principal, team_id: str, *, for_update: bool = False) -> dict | None:
    stmt = readable_teams(principal).where(outreach_teams.c.id == team_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).mappings().first()
    return dict(row) if row else None


async def team_by_name(session: AsyncSession, name: str) -> dict | None:
    row = (await session.execute(select(outreach_teams).where(outreach_teams.c.name == name))).mappings().first()
    return dict(row) if row else None


async def list_teams(session: AsyncSession, principal: Principal, *, region: str | None = None,
                     status: str | None = None) -> list[dict]:
    stmt = readable_teams(principal)
    if region:
        stmt = stmt.where(outreach_teams.c.region == region)
    if status:
        stmt = stmt.where(outreach_teams.c.status == status)
    return [dict(r) for r in (await session.execute(stmt.order_by(outreach_teams.c.region, outreach_teams.c.name,
                                                                  outreach_teams.c.id))).mappings()]


async def all_teams(session: AsyncSession) -> list[dict]:
    """Every team, by id: what the ranking considers."""
    return [dict(r) for r in (await session.execute(select(outreach_teams).order_by(outreach_teams.c.id))).mappings()]


async def insert_team(session: AsyncSession, values: dict) -> None:
    await session.execute(outreach_teams.insert().values(**values))


async def update_team(session: AsyncSession, team_id: str, version: int, values: dict) -> bool:
    """A change guarded by the version read (the ETag): False when someone changed the team first."""
    result = await session.execute(update(outreach_teams).where(and_(
        outreach_teams.c.id == team_id, outreach_teams.c.version == version)).values(**values, version=version + 1))
    return result.rowcount == 1


async def take_caseload_place(session: AsyncSession, team_id: str, now: datetime) -> bool:
    """One conditional UPDATE (active, below its limit): of two accepts racing for a team's last place,
    exactly one gets it."""
    result = await session.execute(update(outreach_teams).where(and_(
        outreach_teams.c.id == team_id, outreach_teams.c.status == "active",
        outreach_teams.c.caseload < outreach_teams.c.caseload_limit)).values(
        caseload=outreach_teams.c.caseload + 1, updated_at=now))
    return result.rowcount == 1


async def open_caseload(session: AsyncSession, values: dict) -> None:
    await session.execute(outreach_caseload.insert().values(**values))


async def close_caseload(session: AsyncSession, referral_id: str, *, intervention_id: str, outcome: str,
                         now: datetime) -> str | None:
    """Close the referral's open caseload row and give its team the place back, once (a conditional UPDATE on the
    row, so a redelivered intervention.closed frees nothing twice); the team id, or None when nothing was open."""
    row = (await session.execute(select(outreach_caseload.c.team_id, outreach_caseload.c.admission_id).where(and_(
        outreach_caseload.c.referral_id == referral_id, outreach_caseload.c.closed_at.is_(None))))).first()
    if row is None:
        return None
    done = await session.execute(update(outreach_caseload).where(and_(
        outreach_caseload.c.admission_id == row.admission_id, outreach_caseload.c.closed_at.is_(None))).values(
        closed_at=now, intervention_id=intervention_id, outcome=outcome))
    if done.rowcount != 1:
        return None
    await session.execute(update(outreach_teams).where(and_(outreach_teams.c.id == row.team_id,
                                                            outreach_teams.c.caseload > 0))
                          .values(caseload=outreach_teams.c.caseload - 1, updated_at=now))
    await session.execute(update(admissions).where(admissions.c.id == row.admission_id).values(status="closed"))
    return row.team_id


# --- restrictions of processing (decision 0006; libs.common.restrictions) ------------------------------------
async def restriction_marker(session: AsyncSession, principal: Principal, referral_id: str) -> dict | None:
    """The hub's marker of a restricted child (its ranking's readers are the hub's: no council reads one)."""
    return await restriction_rules.guard(session, restricted_children, principal, referral_id)
