"""How a service talks to its Postgres (libs.common.db): reads without a transaction, and a pool that hands
connections out first come, first served (FairQueue).

SQLAlchemy's asyncio queue let a request that arrived while others waited take a returned connection, and the
waiter it woke went to the back of the line: with 32 requests sharing 6 connections a read's p99 was four times
its p50 (make load). These tests hold a pool of one connection and watch who gets it next."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from itp.testing import wait_for
from libs.common.db import Database, FairQueuePool, WriteInReader, make_engine
from libs.common.settings import Settings
from tests.support import PG_ADMIN_URL


def one_connection_engine(**kwargs):
    return make_engine(PG_ADMIN_URL, pool_size=1, max_overflow=0, **kwargs)


def waiting(engine) -> int:
    """How many checkouts are waiting in line for the pool's connection."""
    return sum(not w.done() for w in engine.sync_engine.pool._pool._waiters)


async def _queued(n: int, engine, order: list) -> list[asyncio.Task]:
    async def user(i):
        async with engine.connect() as conn:
            order.append(i)
            await conn.execute(text("SELECT 1"))

    tasks = []
    for i in range(n):
        tasks.append(asyncio.create_task(user(i)))
        await wait_for(lambda: waiting(engine) == i + 1, timeout=5)  # each is in line before the next asks
    return tasks


async def test_a_returned_connection_goes_to_the_longest_waiter_not_to_a_newcomer(pg_available):
    engine = one_connection_engine()
    assert isinstance(engine.sync_engine.pool, FairQueuePool)
    order: list = []
    try:
        held = await engine.connect()
        waiting = await _queued(4, engine, order)
        assert order == []
        await held.close()
        # the holder asks again at once: it is the newest in line, behind the four already waiting
        async with engine.connect() as again:
            order.append("newcomer")
            await again.execute(text("SELECT 1"))
        await asyncio.gather(*waiting)
        assert order == [0, 1, 2, 3, "newcomer"]
        assert engine.sync_engine.pool.checkedout() == 0
    finally:
        await engine.dispose()


async def test_a_waiter_that_times_out_gets_the_pools_timeout_and_the_pool_still_works(pg_available):
    engine = one_connection_engine(pool_timeout=0.2)
    try:
        held = await engine.connect()
        with pytest.raises(sa_exc.TimeoutError):
            await engine.connect()
        await held.close()
        async with asyncio.timeout(2):
            async with engine.connect() as conn:
                assert (await conn.execute(text("SELECT 1"))).scalar() == 1
        assert engine.sync_engine.pool.checkedout() == 0
    finally:
        await engine.dispose()


async def test_a_cancelled_waiter_loses_its_place_and_no_connection_is_lost(pg_available):
    engine = one_connection_engine()
    order: list = []
    try:
        held = await engine.connect()
        first, second, third = await _queued(3, engine, order)
        first.cancel()
        await wait_for(lambda: first.done() and waiting(engine) == 2, timeout=5)
        await held.close()
        # handed over and cancelled in the same step: the connection goes on to the next in line
        second.cancel()
        await asyncio.gather(third, return_exceptions=True)
        assert first.cancelled() and second.cancelled()
        assert order == [2]
        assert engine.sync_engine.pool.checkedout() == 0
        async with asyncio.timeout(2):
            async with engine.connect() as conn:
                assert (await conn.execute(text("SELECT 1"))).scalar() == 1
    finally:
        await engine.dispose()


async def test_a_reader_runs_each_statement_on_its_own_and_a_session_stays_one_transaction(pg_available, tmp_path):
    """Database.reader(): no BEGIN/ROLLBACK round trips (each statement is its own transaction, as READ COMMITTED
    would give it its own snapshot anyway); the same pooled connection is transactional again for session()."""
    db = Database(Settings.for_service("referral", database_url=PG_ADMIN_URL, data_dir=tmp_path, db_pool_size=1,
                                       db_max_overflow=0))
    # how long ago the statement's transaction began (now() is the transaction's start)
    transaction_age = text("SELECT extract(epoch FROM statement_timestamp() - now())")
    try:
        async with db.reader() as session:
            await session.execute(text("SELECT pg_sleep(0.05)"))
            alone = float((await session.execute(transaction_age)).scalar())
            in_transaction = (await session.execute(text("SELECT txid_current_if_assigned()"))).scalar()
        async with db.session() as session:
            await session.execute(text("SELECT pg_sleep(0.05)"))
            together = float((await session.execute(transaction_age)).scalar())
        assert alone < 0.04 and in_transaction is None  # began with the statement, after the sleep
        assert together >= 0.05  # began before the sleep
        assert db.engine.sync_engine.pool.checkedout() == 0
    finally:
        await db.dispose()


@pytest.mark.parametrize("backend", ["postgres", "sqlite"])
async def test_a_write_in_a_reader_is_refused_before_it_reaches_the_database(backend, pg_available, tmp_path):
    """A reader commits each statement as it runs: a write there could not be rolled back, so it is refused (a
    programming error), and the service's own sessions still write."""
    url = PG_ADMIN_URL if backend == "postgres" else f"sqlite+aiosqlite:///{tmp_path / 'reads.db'}"
    db = Database(Settings.for_service("referral", database_url=url, data_dir=tmp_path))
    try:
        async with db.session() as session:
            await session.execute(text("CREATE TEMP TABLE notes (n int)") if backend == "postgres"
                                  else text("CREATE TABLE notes (n int)"))
            await session.execute(text("INSERT INTO notes VALUES (1)"))
            await session.commit()
            async with db.reader() as reader:
                with pytest.raises(WriteInReader):
                    await reader.execute(text("INSERT INTO notes VALUES (2)"))
                with pytest.raises(WriteInReader):
                    await reader.execute(text("  delete from notes"))
            assert (await session.execute(text("SELECT count(*) FROM notes"))).scalar() == 1
            await session.execute(text("INSERT INTO notes VALUES (3)"))
            assert (await session.execute(text("SELECT count(*) FROM notes"))).scalar() == 2
    finally:
        await db.dispose()


async def test_a_snapshot_sees_one_moment_across_its_statements_and_refuses_writes(pg_database, tmp_path):
    """Database.snapshot(): the statements of a view read in parts (a home's beds, then its children in Phase 1)
    all see the moment the first one ran, so a change committed between them shows in none; reader() sees it
    in the next statement."""
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + pg_database
    db = Database(Settings.for_service("referral", database_url=url, data_dir=tmp_path))
    count = text("SELECT count(*) FROM public.snapshot_rows")
    try:
        async with db.session() as session:
            await session.execute(text("CREATE TABLE public.snapshot_rows (n int)"))
            await session.execute(text("INSERT INTO public.snapshot_rows VALUES (1)"))
            await session.commit()

        async def another_row(n: int) -> None:
            async with db.session() as writer:
                await writer.execute(text(f"INSERT INTO public.snapshot_rows VALUES ({n})"))
                await writer.commit()

        async with db.snapshot() as snap, db.reader() as reader:
            before = ((await snap.execute(count)).scalar(), (await reader.execute(count)).scalar())
            await another_row(2)
            after = ((await snap.execute(count)).scalar(), (await reader.execute(count)).scalar())
            with pytest.raises(WriteInReader):
                await snap.execute(text("INSERT INTO public.snapshot_rows VALUES (3)"))
        assert before == (1, 1)
        assert after == (1, 2)  # the snapshot still sees its moment; the reader sees the new row
        async with db.snapshot() as snap:  # a new snapshot: the moment it begins
            assert (await snap.execute(count)).scalar() == 2
        assert db.engine.sync_engine.pool.checkedout() == 0
    finally:
        await db.dispose()
