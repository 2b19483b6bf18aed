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
