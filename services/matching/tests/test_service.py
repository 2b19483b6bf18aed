"""Matching's application operations without HTTP: onboard (create, checklist, go live, change), rank and
decide (accept, decline, the veto, the racing accept), and the reservation lapse, called through service.py
on a real, migrated database (SQLite; Postgres where concurrency matters). Each test opens the units of work
and commits them itself, as write(), the consumers and the periodic jobs do."""
from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from itp.testing import PG_ADMIN_URL, pg_template
from libs.common.auth import Principal
from libs.common.events.catalogue import NeedOrRisk
from libs.common.events.transport import InProcessBus
from libs.common.http import parse_if_match
from libs.common.migrations import upgrade
from libs.common.runtime import ServiceRuntime
from libs.common.settings import Settings
from services.matching import service
from services.matching.domain.beds import ONBOARDING_CHECKLIST
from services.matching.repository import HomesSnapshot
from services.matching.scheduled import lapse_reservations
from services.matching.service import Decision, Invalid, Missing, Refused, Stale
from services.matching.tables import admissions, beds, impact_risk_assessments, metadata, referrals

HUB = Principal(client_id="hub-test", role="hub")
PROVIDER = Principal(client_id="provider-test", role="provider_admin")
NOW = datetime.now(timezone.utc)
TODAY = NOW.date()


async def _runtime(settings: Settings, **migrate) -> ServiceRuntime:
    await upgrade(settings, **migrate)
    return ServiceRuntime(settings, metadata, bus=InProcessBus())


@pytest.fixture
async def runtime(tmp_path):
    rt = await _runtime(Settings.for_service("matching", data_dir=tmp_path, transport="inprocess"))
    yield rt
    await rt.db.dispose()


@pytest.fixture
async def pg_runtime(tmp_path, pg_database):
    settings = Settings.for_service("matching", data_dir=tmp_path, transport="inprocess",
                                    database_url_template=pg_template(pg_database))
    rt = await _runtime(settings, admin_url=PG_ADMIN_URL)
    yield rt
    await rt.db.dispose()


def home_fields(urn: str, **extra) -> dict:
    return {"urn": urn, "name": f"Home {urn}", "address": "1 Test Lane, Leicester", "postcode": "le4 1ab",
            "registered_places": 3, "age_min": 10, "age_max": 17, "sexes": ["female", "male"],
            "categories": ["emotional_behavioural_difficulties", "mental_disorders"],
            "specialisms": ["complex_mental_health"], "registered_manager": None, "ofsted_rating": "good",
            "inspection_date": None, "registration_status": "registered", "phase_1_limit": None, **extra}


async def live_home(rt: ServiceRuntime, urn: str, **extra) -> dict:
    async with rt.uow() as uow:
        home, created = await service.onboard_home(uow, PROVIDER, home_fields(urn, **extra), NOW)
        for item in ONBOARDING_CHECKLIST:
            await service.confirm_checklist_item(uow, PROVIDER, home["id"], item, done=True, note=None, now=NOW)
        home = await service.go_live(uow, PROVIDER, home["id"], None, NOW)
        await uow.commit()
    return home


async def received(rt: ServiceRuntime, *, sex: str = "female", age: int = 14, needs=("mental_health",)) -> str:
    referral_id = str(uuid.uuid4())
    async with rt.uow() as uow:
        await service.referral_received(
            uow, referral_id, "E10000018", NOW, NOW,
            date_of_birth=TODAY.replace(year=TODAY.year - age) - timedelta(days=9), sex=sex, home_outward_code="LE4",
            needs=[NeedOrRisk(code=c, severity="high") for c in needs], risks=[], urgency="crisis",
            wanted_start_date=TODAY)
        await uow.commit()
    return referral_id


async def decide(rt: ServiceRuntime, snapshot: HomesSnapshot, d: Decision, now: datetime = NOW) -> dict:
    async with rt.uow() as uow:
        row = await service.decide(uow, snapshot, HUB, d, now)
        await uow.commit()
    return row


def accept(referral_id: str, home_id: str, **extra) -> Decision:
    return Decision(referral_id=referral_id, decision="accept", home_id=home_id, planned_start_date=TODAY, **extra)


async def rank(rt: ServiceRuntime, snapshot: HomesSnapshot, referral_id: str, now: datetime = NOW):
    async with rt.db.session() as session:
        return await service.rank(session, snapshot, referral_id, as_of=now.date(), now=now)


# --- onboard ------------------------------------------------------------------------------------------
async def test_onboarding_creates_the_beds_and_checklist_and_go_live_needs_every_item_and_announces_once(runtime):
    async with runtime.uow() as uow:
        home, created = await service.onboard_home(uow, PROVIDER, home_fields("SC300001"), NOW)
        await uow.commit()
    assert created and home["status"] == "onboarding" and home["postcode"] == "LE4 1AB"
    assert [b["label"] for b in home["beds"]] == ["Bed 1", "Bed 2", "Bed 3"]
    assert not any(b["is_pathway"] for b in home["beds"]) and not home["matchable"]

    async with runtime.uow() as uow:  # a retry with the same facts answers the same home; other facts are refused
        again, created = await service.onboard_home(uow, PROVIDER, home_fields("SC300001"), NOW)
        assert not created and again["id"] == home["id"]
        with pytest.raises(Refused) as refused:
            await service.onboard_home(uow, PROVIDER, home_fields("SC300001", name="Another"), NOW)
        assert refused.value.extra["home_id"] == home["id"]
        with pytest.raises(Refused) as early:
            await service.go_live(uow, PROVIDER, home["id"], None, NOW)
        assert set(early.value.extra["missing_items"]) == set(ONBOARDING_CHECKLIST)
        with pytest.raises(Invalid) as unknown:  # names the valid items
            await service.confirm_checklist_item(uow, PROVIDER, home["id"], "no_such_item", done=True, note=None,
                                                 now=NOW)
        assert all(i in unknown.value.message for i in ONBOARDING_CHECKLIST)

    async with runtime.uow() as uow:
        for item in ONBOARDING_CHECKLIST:
            ticked = await service.confirm_checklist_item(uow, PROVIDER, home["id"], item, done=True, note="ok",
                                                          now=NOW)
        assert all(i["done"] and i["confirmed_by"] == "provider-test" for i in ticked["checklist"])
        live = await service.go_live(uow, PROVIDER, home["id"], None, NOW)
        await service.go_live(uow, PROVIDER, home["id"], None, NOW)  # going live again changes nothing
        assert [e.type for e in uow.emitted] == ["home.onboarded"]
        await uow.commit()
    assert live["status"] == "live" and live["matchable"] and live["version"] == 2
    assert [b["label"] for b in live["beds"] if b["is_pathway"]] == ["Bed 1"]


async def test_a_home_changes_only_under_its_current_etag_and_keeps_its_rules(runtime):
    home = await live_home(runtime, "SC300002")
    async with runtime.uow() as uow:
        with pytest.raises(Stale) as stale:
            await service.update_home(uow, PROVIDER, home["id"], {"ofsted_rating": "inadequate"},
                                      parse_if_match('"1"'), NOW)
        assert stale.value.current_version == home["version"]
        with pytest.raises(Invalid) as invalid:
            await service.update_home(uow, PROVIDER, home["id"], {"age_min": 18}, None, NOW)
        assert (invalid.value.field, invalid.value.rule) == ("body.age_min", "age_range")
        with pytest.raises(Refused):
            await service.update_home(uow, PROVIDER, home["id"], {"registered_places": 2}, None, NOW)
    async with runtime.uow() as uow:
        changed = await service.update_home(uow, PROVIDER, home["id"], {"ofsted_rating": "inadequate",
                                                                        "registered_places": 4},
                                            parse_if_match(f'W/"{home["version"]}", "99"'), NOW)
        await uow.commit()
    assert changed["version"] == home["version"] + 1 and not changed["matchable"] and len(changed["beds"]) == 4
    manager = Principal(client_id="m", role="home_manager", homes=("someone-else",))
    async with runtime.db.session() as session:
        with pytest.raises(Missing):
            await service.home(session, manager, home["id"])


async def test_a_bed_is_taken_out_of_service_by_hand_only_when_vacant(runtime):
    home = await live_home(runtime, "SC300003", registered_places=2)
    bed_1, bed_2 = (b["id"] for b in home["beds"])
    async with runtime.uow() as uow:
        out = await service.set_bed_state(uow, PROVIDER, home["id"], bed_1, "out_of_service", NOW)
        assert out["state"] == "out_of_service" and not out["is_pathway"]
        after = await service.home(uow.session, PROVIDER, home["id"])
        assert [b["id"] for b in after["beds"] if b["is_pathway"]] == [bed_2]
        with pytest.raises(Refused):
            await service.set_bed_state(uow, PROVIDER, home["id"], bed_1, "occupied", NOW)
        await uow.commit()


# --- rank -------------------------------------------------------------------------------------------------
async def test_ranking_counts_each_hard_limit_reads_only_and_is_stored_and_announced_once(runtime):
    home = await live_home(runtime, "SC300010")
    await live_home(runtime, "SC300011", sexes=["male"])
    await live_home(runtime, "SC300012", categories=["learning_disability"])
    referral_id = await received(runtime)
    snapshot = HomesSnapshot()
    ranking = await rank(runtime, snapshot, referral_id)
    assert ranking.body["homes_considered"] == 3 and ranking.body["homes_ranked"] == 1
    assert ranking.body["excluded"]["sex_not_registered"] == 1
    assert ranking.body["excluded"]["needs_beyond_registration"] == 1
    assert [o["home_id"] for o in ranking.body["options"]] == [home["id"]]
    assert not ranking.stored and ranking.id == ranking.body["assessment_id"]  # the deprecated name, same id
    assert (await rank(runtime, snapshot, referral_id)).id == ranking.id        # deterministic
    async with runtime.db.session() as session:
        assert (await session.execute(select(impact_risk_assessments))).first() is None  # a read writes nothing

    for expected in (True, False):  # stored and announced once, however often it is recorded
        async with runtime.uow() as uow:
            assert await service.record_ranking(uow, ranking, NOW) is expected
            assert [e.type for e in uow.emitted] == (["impact_risk.assessed"] if expected else [])
            await uow.commit()
    assert (await rank(runtime, snapshot, referral_id)).stored
    async with runtime.db.session() as session:
        with pytest.raises(Missing):
            await service.rank(session, snapshot, str(uuid.uuid4()), as_of=TODAY, now=NOW)


# --- decide -------------------------------------------------------------------------------------------------
async def test_an_accept_reserves_the_pathway_bed_stores_the_answer_shown_and_decides_the_referral_once(runtime):
    home = await live_home(runtime, "SC300020")
    referral_id = await received(runtime)
    snapshot = HomesSnapshot()
    shown = await rank(runtime, snapshot, referral_id)
    async with runtime.uow() as uow:
        await service.record_ranking(uow, shown, NOW)
        await uow.commit()
    with pytest.raises(Invalid) as unknown:
        await decide(runtime, snapshot, accept(referral_id, home["id"], impact_risk_assessment_id="f" * 64))
    assert unknown.value.field == "body.impact_risk_assessment_id"
    with pytest.raises(Invalid) as past:
        await decide(runtime, snapshot, Decision(referral_id=referral_id, decision="accept", home_id=home["id"],
                                                 planned_start_date=TODAY - timedelta(days=1)))
    assert past.value.rule == "not_in_the_past"

    admission = await decide(runtime, snapshot, accept(referral_id, home["id"], impact_risk_assessment_id=shown.id))
    assert admission["status"] == "reserved" and admission["impact_risk_assessment_id"] == shown.id
    assert admission["impact_risk_assessment"] == shown.body
    pathway = next(b for b in home["beds"] if b["is_pathway"])
    assert admission["bed_id"] == pathway["id"]
    async with runtime.db.session() as session:
        bed = (await session.execute(select(beds).where(beds.c.id == pathway["id"]))).mappings().one()
        status = (await session.execute(select(referrals.c.status).where(referrals.c.id == referral_id))).scalar()
    assert (bed["state"], bed["is_pathway"], bed["reserved_for"]) == ("reserved", True, referral_id)
    assert status == "accepted"
    with pytest.raises(Refused) as twice:
        await decide(runtime, snapshot, accept(referral_id, home["id"]))
    assert twice.value.extra["referral_status"] == "accepted"

    other = await received(runtime)  # the Pathway Bed is taken: the next accept into the home is refused
    with pytest.raises(Refused):
        await decide(runtime, snapshot, accept(other, home["id"]))
    declined = await decide(runtime, snapshot, Decision(referral_id=other, decision="decline",
                                                        reason_code="no_vacancy"))
    assert (declined["decision"], declined["status"], declined["reason_code"]) == ("declined", "declined", "no_vacancy")


async def test_the_veto_a_hard_limit_other_than_the_bed_refuses_an_accept(runtime):
    home = await live_home(runtime, "SC300030", sexes=["male"])
    referral_id = await received(runtime, sex="female")
    with pytest.raises(Refused) as veto:
        await decide(runtime, HomesSnapshot(), accept(referral_id, home["id"]))
    assert veto.value.extra == {"hard_limit": "sex_not_registered", "allowed": ["decline"]}
    with pytest.raises(Missing):
        await decide(runtime, HomesSnapshot(), accept(referral_id, str(uuid.uuid4())))
    with pytest.raises(Missing):
        await decide(runtime, HomesSnapshot(), accept(str(uuid.uuid4()), home["id"]))


# --- the reservation lapse ------------------------------------------------------------------------------------
async def test_an_overdue_reservation_counts_as_free_when_ranking_and_only_the_job_lapses_it(runtime):
    home = await live_home(runtime, "SC300040")
    first, second = await received(runtime), await received(runtime)
    snapshot = HomesSnapshot()
    admission = await decide(runtime, snapshot, accept(first, home["id"]))
    assert (await rank(runtime, snapshot, second)).body["excluded"]["no_free_pathway_bed"] == 1

    later = NOW + timedelta(days=3)  # past planned start + the grace hours
    assert (await rank(runtime, snapshot, second, later)).body["homes_ranked"] == 1
    async with runtime.db.session() as session:  # ... and the read wrote nothing: the bed is still reserved
        state = (await session.execute(select(beds.c.state).where(beds.c.id == admission["bed_id"]))).scalar()
    assert state == "reserved"

    assert await lapse_reservations(runtime, later) == 1
    assert await lapse_reservations(runtime, later) == 0  # another replica at the same moment: nothing to do
    async with runtime.db.session() as session:
        bed = (await session.execute(select(beds).where(beds.c.id == admission["bed_id"]))).mappings().one()
        lapsed = (await session.execute(select(admissions.c.status).where(admissions.c.id == admission["id"]))).scalar()
        status = (await session.execute(select(referrals.c.status).where(referrals.c.id == first))).scalar()
    assert (bed["state"], bed["is_pathway"], lapsed, status) == ("vacant", True, "lapsed", "awaiting_decision")


async def test_an_accept_takes_a_bed_whose_reservation_is_overdue_before_the_job_has_run(runtime):
    home = await live_home(runtime, "SC300041")
    first, second = await received(runtime), await received(runtime)
    snapshot = HomesSnapshot()
    old = await decide(runtime, snapshot, accept(first, home["id"]))
    later = NOW + timedelta(days=3)
    new = await decide(runtime, snapshot, Decision(referral_id=second, decision="accept", home_id=home["id"],
                                                   planned_start_date=later.date()), later)
    assert new["bed_id"] == old["bed_id"] and new["status"] == "reserved"
    async with runtime.db.session() as session:
        lapsed = (await session.execute(select(admissions.c.status).where(admissions.c.id == old["id"]))).scalar()
        status = (await session.execute(select(referrals.c.status).where(referrals.c.id == first))).scalar()
    assert (lapsed, status) == ("lapsed", "awaiting_decision")


# --- the racing accept, on Postgres --------------------------------------------------------------------------
async def test_accepts_racing_for_one_pathway_bed_let_exactly_one_win(pg_runtime):
    home = await live_home(pg_runtime, "SC300050")
    referral_ids = [await received(pg_runtime) for _ in range(5)]
    snapshot = HomesSnapshot()
    await rank(pg_runtime, snapshot, referral_ids[0])  # warm the snapshot, as a replica serving reads has

    async def attempt(referral_id: str):
        try:
            return await decide(pg_runtime, snapshot, accept(referral_id, home["id"]))
        except Refused as exc:
            return exc
    answers = await asyncio.gather(*(attempt(r) for r in referral_ids))
    assert sorted(type(a).__name__ for a in answers) == ["Refused"] * 4 + ["dict"]
    async with pg_runtime.db.session() as session:
        states = [r.state for r in (await session.execute(select(beds.c.state).where(beds.c.home_id == home["id"])))]
        accepted = (await session.execute(select(referrals.c.id).where(referrals.c.status == "accepted"))).all()
    assert states.count("reserved") == 1 and len(accepted) == 1


async def test_one_referral_accepted_into_two_homes_at_once_is_accepted_once(pg_runtime):
    homes = [await live_home(pg_runtime, urn) for urn in ("SC300051", "SC300052")]
    referral_id = await received(pg_runtime)
    snapshot = HomesSnapshot()

    async def attempt(home_id: str):
        try:
            return await decide(pg_runtime, snapshot, accept(referral_id, home_id))
        except Refused as exc:
            return exc
    answers = await asyncio.gather(*(attempt(h["id"]) for h in homes))
    assert sorted(type(a).__name__ for a in answers) == ["Refused", "dict"]
    async with pg_runtime.db.session() as session:
        reserved = (await session.execute(select(beds.c.id).where(beds.c.state == "reserved"))).all()
    assert len(reserved) == 1
