"""Matching's queries and writes: the homes snapshot the assessment reads, beds and the Pathway Bed,
reservation lapses. Every change to homes, beds or residents bumps matching_state.homes_version in the
same transaction, so every replica can tell when its in-memory snapshot is stale."""
from __future__ import annotations

import asyncio
import gc
from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .domain.beds import Bed, choose_pathway_bed
from .domain.model import Child, Home, Resident, age_on
from .tables import admissions, beds, homes, matching_state, referrals, residents


async def bump(session: AsyncSession) -> None:
    await session.execute(update(matching_state).where(matching_state.c.id == 1)
                          .values(homes_version=matching_state.c.homes_version + 1))


async def homes_version(session: AsyncSession) -> int:
    return (await session.execute(select(matching_state.c.homes_version).where(matching_state.c.id == 1))).scalar_one()


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


async def sweep_lapsed_reservations(session: AsyncSession, now: datetime) -> int:
    """A reserved bed whose child has not arrived by its deadline returns to vacant (it stays the
    Pathway Bed). One conditional UPDATE per bed: safe when several replicas sweep at once."""
    due = (await session.execute(select(beds.c.id, beds.c.admission_id, beds.c.reserved_for).where(
        and_(beds.c.state == "reserved", beds.c.reserved_until < now)))).all()
    lapsed = 0
    for row in due:
        result = await session.execute(update(beds).where(and_(beds.c.id == row.id, beds.c.state == "reserved",
                                                               beds.c.reserved_until < now))
                                       .values(state="vacant", reserved_for=None, reserved_until=None,
                                               admission_id=None, updated_at=now))
        if result.rowcount:
            lapsed += 1
            await session.execute(update(admissions).where(and_(admissions.c.id == row.admission_id,
                                                                admissions.c.status == "reserved"))
                                  .values(status="lapsed"))
            await session.execute(update(referrals).where(and_(referrals.c.id == row.reserved_for,
                                                               referrals.c.status == "accepted"))
                                  .values(status="awaiting_decision", updated_at=now))
    if lapsed:
        await bump(session)
    return lapsed


@dataclass(frozen=True)
class _HomeRow:
    home: Home
    resident_rows: tuple  # (placement_id, phase, referral_id, date_of_birth, sex, codes)


class HomesSnapshot:
    """Every home as the assessment sees it, rebuilt only when homes_version moves."""

    def __init__(self):
        self.version: int | None = None
        self._rows: list[_HomeRow] = []
        self._by_day: dict[date, list[Home]] = {}
        self._lock = asyncio.Lock()

    async def homes(self, session: AsyncSession, as_of: date) -> list[Home]:
        version = await homes_version(session)
        if version != self.version:
            async with self._lock:
                if version != self.version:
                    self._rows = await _load(session)
                    self._by_day = {}
                    self.version = version
                    gc.collect()
                    gc.freeze()  # the snapshot is long-lived: keep it out of the collector's full passes
        cached = self._by_day.get(as_of)
        if cached is None:
            cached = self._by_day[as_of] = [_with_ages(r, as_of) for r in self._rows]
            if len(self._by_day) > 4:
                self._by_day.pop(next(iter(self._by_day)))
        return cached


def _with_ages(row: _HomeRow, as_of: date) -> Home:
    if not row.resident_rows:
        return row.home
    out = []
    for placement_id, phase, referral_id, dob, sex, codes in row.resident_rows:
        # a resident whose referral matching never saw is scored conservatively: age 0, no codes
        age = age_on(dob, as_of) if dob else 0
        out.append(Resident(placement_id, Child(referral_id, age, sex or "unknown", codes), phase))
    from dataclasses import replace
    return replace(row.home, residents=tuple(out))


def child_codes(needs: list[dict], risks: list[dict]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted({(x["code"], x.get("severity", "medium")) for x in [*needs, *risks]}))


async def _load(session: AsyncSession) -> list[_HomeRow]:
    free = {r.home_id for r in (await session.execute(select(beds.c.home_id).where(
        and_(beds.c.is_pathway, beds.c.state == "vacant")))).all()}
    res: dict[str, list] = {}
    q = (select(residents.c.placement_id, residents.c.home_id, residents.c.phase, residents.c.referral_id,
                referrals.c.date_of_birth, referrals.c.sex, referrals.c.needs, referrals.c.risks)
         .select_from(residents.outerjoin(referrals, referrals.c.id == residents.c.referral_id))
         .where(residents.c.end_date.is_(None)))
    for r in (await session.execute(q)).all():
        res.setdefault(r.home_id, []).append((r.placement_id, r.phase, r.referral_id, r.date_of_birth, r.sex,
                                              child_codes(r.needs or [], r.risks or [])))
    out = []
    for h in (await session.execute(select(homes).order_by(homes.c.id))).mappings():
        home = Home(id=h["id"], live=h["status"] == "live", registration_status=h["registration_status"],
                    ofsted_rating=h["ofsted_rating"], age_min=h["age_min"], age_max=h["age_max"],
                    sexes=frozenset(h["sexes"]), categories=frozenset(h["categories"]),
                    specialisms=frozenset(h["specialisms"]), outward_code=h["postcode_district"],
                    pathway_bed_free=h["id"] in free, phase_1_limit=h["phase_1_limit"])
        out.append(_HomeRow(home, tuple(sorted(res.get(h["id"], []), key=lambda t: t[0]))))
    return out


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


async def lapse_reservations(runtime) -> int:
    """The periodic job: lapse overdue reservations even when nobody reads matching meanwhile."""
    async with runtime.uow() as uow:
        lapsed = await sweep_lapsed_reservations(uow.session, utcnow())
        if lapsed:
            await uow.commit()
    return lapsed
