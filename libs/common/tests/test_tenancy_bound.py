"""libs.common.tenancy.readable_bound: a statement built once for every caller keeps each council inside its own
rows (the caller's code is a bind parameter given when it runs), and a council statement run without the caller's
parameters fails rather than reading anyone's rows. On an in-memory SQLite database."""
from __future__ import annotations

import pytest
from sqlalchemy import Column, MetaData, String, Table, bindparam, select
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import create_async_engine

from libs.common.auth import Principal
from libs.common.tenancy import readable, readable_bound, tenancy_params

COUNTY = Principal(client_id="council-E10000018", la_code="E10000018")
CITY = Principal(client_id="council-E06000016", la_code="E06000016")
HUB = Principal(client_id="hub-hub", role="hub")

records = Table("records", MetaData(), Column("id", String(8), primary_key=True), Column("la_code", String(16)))


@pytest.fixture
async def conn():
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as c:
        await c.run_sync(records.metadata.create_all)
        await c.execute(records.insert(), [{"id": "a", "la_code": COUNTY.la_code}, {"id": "b", "la_code": CITY.la_code}])
    async with engine.connect() as c:
        yield c
    await engine.dispose()


async def test_one_statement_serves_each_council_its_own_rows_and_the_hub_all(conn):
    council_stmt = readable_bound(select(records.c.id), True, records.c.la_code).order_by(records.c.id)
    hub_stmt = readable_bound(select(records.c.id), False, records.c.la_code).order_by(records.c.id)
    assert (await conn.execute(council_stmt, tenancy_params(COUNTY))).scalars().all() == ["a"]
    assert (await conn.execute(council_stmt, tenancy_params(CITY))).scalars().all() == ["b"]
    assert (await conn.execute(hub_stmt, tenancy_params(HUB))).scalars().all() == ["a", "b"]
    # the same rows as the statement readable() builds for each caller
    for who in (COUNTY, CITY, HUB):
        built = (await conn.execute(readable(select(records.c.id), who, records.c.la_code)
                                    .order_by(records.c.id))).scalars().all()
        bound = council_stmt if who.is_council else hub_stmt
        assert (await conn.execute(bound, tenancy_params(who))).scalars().all() == built


async def test_a_council_statement_without_the_callers_code_fails(conn):
    council_stmt = readable_bound(select(records.c.id), True, records.c.la_code)
    with pytest.raises(StatementError):
        await conn.execute(council_stmt)
    with pytest.raises(StatementError):  # another statement's parameters are not the caller's code either
        await conn.execute(council_stmt.where(records.c.id == bindparam("rid")), {"rid": "a"})

