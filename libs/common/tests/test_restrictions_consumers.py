"""libs.common.restrictions: the consumers keep a service's copy of the restrictions idempotently (a redelivery
changes nothing; a lift that arrives before its restriction keeps it lifted), and guard/screen answer a council and
the hub as decision 0006 says. On an in-memory SQLite database, the table made by the shared factory."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import MetaData, func, select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from libs.common.auth import Principal
from libs.common.events.catalogue import ReferralRestricted, ReferralRestrictionLifted
from libs.common.restrictions import (Restricted, guard, record_lifted, record_restricted, restricted_children_table,
                                      restricted_problem, screen)

COUNCIL = Principal(client_id="council-E10000018", la_code="E10000018")
HUB = Principal(client_id="hub-hub", role="hub")
NOW = datetime(2026, 11, 21, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
async def db():
    table = restricted_children_table(MetaData())
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(table.metadata.create_all)
    yield async_sessionmaker(engine), table
    await engine.dispose()


def restricted(child: str, rid: str) -> ReferralRestricted:
    return ReferralRestricted(referral_id=child, restriction_id=rid, reason_code="erasure_request",
                              requested_on=date(2026, 11, 20), scope=["case_record"], recorded_at=NOW)


def lifted(child: str, rid: str) -> ReferralRestrictionLifted:
    return ReferralRestrictionLifted(referral_id=child, restriction_id=rid, reason_code="erasure_request",
                                     lifted_at=NOW)


async def test_redelivery_changes_nothing_and_a_lift_is_kept(db):
    sessions, table = db
    child, rid = str(uuid.uuid4()), str(uuid.uuid4())
    async with sessions.begin() as s:
        assert await record_restricted(s, table, restricted(child, rid)) is True
        assert await record_restricted(s, table, restricted(child, rid)) is False
        assert (await s.execute(select(func.count()).select_from(table))).scalar_one() == 1
        with pytest.raises(Restricted) as refused:
            await guard(s, table, COUNCIL, child)
        problem = restricted_problem(refused.value)
        assert problem.status == 451 and problem.extra["requested_on"] == "2026-11-20"
        assert (await guard(s, table, HUB, child))["id"] == rid
        rows, marks, omitted = await screen(s, table, COUNCIL, [{"referral_id": child}, {"referral_id": "other"}])
        assert rows == [{"referral_id": "other"}] and marks == {} and omitted == 1
        rows, marks, omitted = await screen(s, table, HUB, [{"referral_id": child}])
        assert len(rows) == 1 and marks[child]["reason_code"] == "erasure_request" and omitted == 0
        assert await record_lifted(s, table, lifted(child, rid)) is True
        assert await record_lifted(s, table, lifted(child, rid)) is False
        assert await guard(s, table, COUNCIL, child) is None


async def test_a_lift_delivered_before_its_restriction_keeps_the_child_readable(db):
    sessions, table = db
    child, rid = str(uuid.uuid4()), str(uuid.uuid4())
    async with sessions.begin() as s:
        await record_lifted(s, table, lifted(child, rid))
        await record_restricted(s, table, restricted(child, rid))
        assert await guard(s, table, COUNCIL, child) is None


# --- which child's record an event is about (the gateway's webhooks) -----------------------------------------
def test_every_catalogued_event_about_a_child_names_the_child_or_one_of_its_records():
    """The attribution keeps in step with the catalogue: an event type is about no one child (listed), or its
    payload names the child's record (referral_id) or a record of the child (a placement or an intervention)."""
    from libs.common.events.catalogue import CATALOGUE
    from libs.common.restrictions import CHILD_RECORD_KEYS, NOT_ABOUT_ONE_CHILD

    assert NOT_ABOUT_ONE_CHILD <= set(CATALOGUE)
    for event_type, spec in CATALOGUE.items():
        if event_type in NOT_ABOUT_ONE_CHILD:
            continue
        fields = set(spec.payload.model_fields)
        assert fields & {"referral_id", *CHILD_RECORD_KEYS}, f"{event_type}: which child is it about?"


def test_an_event_names_its_child_or_a_record_linked_to_it_earlier():
    from libs.common.restrictions import EventChild, event_child

    child, placement, intervention = "r-1", "p-1", "i-1"
    assert event_child("placement.started", {"referral_id": child, "placement_id": placement}) == EventChild(
        child, (), ((placement, child),))
    assert event_child("phase.transitioned", {"placement_id": placement}) == EventChild(None, (placement,))
    assert event_child("deadline.missed", {"placement_id": None, "intervention_id": intervention}) == EventChild(
        None, (intervention,))
    assert event_child("referral.received", {"referral_id": child, "handoff_from_placement_id": placement}) == \
        EventChild(child)  # the placement a child stepped down from belongs to the earlier referral, not this one
    assert event_child("home.onboarded", {"home_id": "h"}) is None
    assert event_child("invoice.issued", {"lines": [{"referral_id": child}]}) is None


def test_an_invoice_keeps_a_restricted_childs_lines_and_money_with_the_childs_ids_withheld():
    from libs.common.restrictions import invoice_children, withhold_invoice_lines

    data = {"total_pence": 300, "lines": [
        {"line_no": 1, "referral_id": "r-1", "placement_id": "p-1", "intervention_id": None, "amount_pence": 100,
         "child_withheld": False},
        {"line_no": 2, "referral_id": "r-2", "placement_id": "p-2", "intervention_id": None, "amount_pence": 200,
         "child_withheld": False}]}
    assert invoice_children(data) == {"r-1", "r-2"}
    assert withhold_invoice_lines(data, set()) is data
    seen = withhold_invoice_lines(data, {"r-1"})
    assert seen["lines"][0] == {"line_no": 1, "referral_id": None, "placement_id": None, "intervention_id": None,
                                "amount_pence": 100, "child_withheld": True}
    assert seen["lines"][1] == data["lines"][1] and seen["total_pence"] == 300
    assert data["lines"][0]["referral_id"] == "r-1"  # the event itself untouched


async def test_the_consumers_run_what_follows_in_the_same_unit_of_work(db):
    from types import SimpleNamespace

    from libs.common.restrictions import consumers, in_force

    sessions, table = db
    child, rid = str(uuid.uuid4()), str(uuid.uuid4())
    seen = []

    async def then(uow, event, payload):
        seen.append((event, set(await in_force(uow.session, table, [child]))))
    handlers = consumers(table, then=then)
    async with sessions.begin() as s:
        uow = SimpleNamespace(session=s)
        await handlers["referral.restricted"](uow, "restricted", restricted(child, rid))
        await handlers["referral.restriction_lifted"](uow, "lifted", lifted(child, rid))
    assert seen == [("restricted", {child}), ("lifted", set())]
