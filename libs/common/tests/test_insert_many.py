"""libs.common.db.insert_many and member_of, the set-based forms a batch of events uses (a replay's inbox rows, a
read model's rows): the rows they write and find are those SQLAlchemy's executemany and IN write and find, on
Postgres (one JSON parameter for the rows, an array for the set) and on SQLite (embedded mode: SQLAlchemy's own)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import JSON, Column, Date, Integer, MetaData, Numeric, String, Table, select, text
from sqlalchemy.exc import StatementError

from libs.common.db import insert_many, make_engine, member_of
from libs.common.types import UtcDateTime
from tests.support import PG_ADMIN_URL

metadata = MetaData()
rows_table = Table(
    "insert_many_rows", metadata,
    Column("id", String(36), primary_key=True),
    Column("needs", JSON, nullable=False),
    Column("requirements", JSON, nullable=True),
    Column("date_of_birth", Date, nullable=True),
    Column("received_at", UtcDateTime(), nullable=True),
    Column("weeks", Integer, nullable=True),
    Column("kind", String(10), nullable=False, server_default="bed"),
    Column("amount", Numeric(10, 2), nullable=True),
)

LONDON = timezone(timedelta(hours=1))
ROWS = [
    dict(id="a", needs=[{"code": "mental_health", "severity": "high"}], requirements=None, date_of_birth=date(2012, 3, 14),
         received_at=datetime(2026, 6, 1, 13, 0, tzinfo=LONDON), weeks=None),
    dict(id="b", needs=[], requirements={"sole_occupancy": True, "nested": [[1, 2], ["x"]]}, date_of_birth=None,
         received_at=None, weeks=12),
    dict(id="c", needs=[{"code": "it's \"quoted\" \\ and ünïcode", "severity": "low"}], requirements={"1": "key"},
         date_of_birth=date(2010, 1, 1), received_at=datetime(2026, 1, 1, tzinfo=timezone.utc), weeks=0),
]


@pytest.fixture(params=["postgres", "sqlite"])
async def engine(request, tmp_path):
    if request.param == "postgres":
        request.getfixturevalue("pg_database")
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + request.getfixturevalue("pg_database")
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'rows.db'}"
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()


async def stored(engine) -> list:
    """Each row as the database holds it (JSON as text, so JSON null and SQL NULL differ)."""
    async with engine.connect() as conn:
        return (await conn.execute(text(
            "SELECT id, CAST(needs AS TEXT) IS NULL, requirements IS NULL, date_of_birth, received_at, weeks, kind "
            "FROM insert_many_rows ORDER BY id"))).all()


async def test_the_rows_written_are_those_executemany_writes(engine):
    from sqlalchemy.ext.asyncio import AsyncSession
    async with AsyncSession(engine) as session, session.begin():
        await session.execute(rows_table.insert(), ROWS)
    expected = await stored(engine)
    async with AsyncSession(engine) as session:
        expected_values = (await session.execute(select(rows_table).order_by(rows_table.c.id))).all()
    async with engine.begin() as conn:
        await conn.execute(rows_table.delete())
    async with AsyncSession(engine) as session, session.begin():
        await insert_many(session, rows_table, ROWS)
    assert await stored(engine) == expected
    async with AsyncSession(engine) as session:
        values = (await session.execute(select(rows_table).order_by(rows_table.c.id))).all()
    assert values == expected_values
    assert values[0].received_at == datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)  # an instant, kept in UTC
    assert values[1].requirements == {"sole_occupancy": True, "nested": [[1, 2], ["x"]]}  # not an array of arrays
    assert values[2].needs[0]["code"] == "it's \"quoted\" \\ and ünïcode"
    assert {v.kind for v in values} == {"bed"}  # a column not given takes its default


async def test_on_a_connection_in_autocommit_the_rows_are_the_same(engine):
    """The gateway's access log writes on a held connection, not a session (services/gateway/audit.py)."""
    async with engine.begin() as conn:
        await conn.execute(rows_table.insert(), ROWS)
    expected = await stored(engine)
    async with engine.begin() as conn:
        await conn.execute(rows_table.delete())
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await insert_many(conn, rows_table, ROWS)
    assert await stored(engine) == expected
    assert len(expected) == len(ROWS)


async def test_a_naive_instant_is_refused_as_an_insert_refuses_it(engine):
    from sqlalchemy.ext.asyncio import AsyncSession
    naive = [dict(ROWS[0], received_at=datetime(2026, 6, 1, 12, 0))]
    async with AsyncSession(engine) as session:
        with pytest.raises((ValueError, StatementError), match="naive datetime"):
            await insert_many(session, rows_table, naive)


async def test_rows_of_mixed_keys_and_values_json_cannot_carry_still_go_in(engine):
    from sqlalchemy.ext.asyncio import AsyncSession
    mixed = [dict(id="m1", needs=[]), dict(id="m2", needs=[], weeks=3)]
    money = [dict(id="d1", needs=[], amount=Decimal("12.34"))]
    async with AsyncSession(engine) as session, session.begin():
        await insert_many(session, rows_table, mixed)
        await insert_many(session, rows_table, money)
        await insert_many(session, rows_table, [])
    async with AsyncSession(engine) as session:
        got = {r.id: (r.weeks, r.amount) for r in (await session.execute(select(rows_table))).all()}
    assert got == {"m1": (None, None), "m2": (3, None), "d1": (None, Decimal("12.34"))}


async def test_member_of_finds_what_in_finds(engine):
    from sqlalchemy.ext.asyncio import AsyncSession
    async with AsyncSession(engine) as session, session.begin():
        await insert_many(session, rows_table, ROWS)
    async with AsyncSession(engine) as session:
        for wanted in ({"a", "c", "zz"}, {"b"}, set(), {f"x{i}" for i in range(1000)} | {"a"}):
            found = set((await session.execute(select(rows_table.c.id).where(
                member_of(session, rows_table.c.id, wanted)))).scalars())
            assert found == wanted & {"a", "b", "c"}
        if engine.dialect.name == "postgresql":  # one array parameter, whatever the set's size
            sql = str(select(rows_table.c.id).where(member_of(session, rows_table.c.id, {"a", "b", "c"}))
                      .compile(dialect=engine.dialect))
            assert "ANY" in sql and sql.count("%") + sql.count("$") <= 1
