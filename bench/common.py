"""What every bench shares: the percentile, and the two ways the system runs, each migrated into a
throwaway place (a fresh Postgres database, with Kafka if a broker is given, and SQLite files), dropped after."""
from __future__ import annotations

import tempfile
import uuid
from contextlib import asynccontextmanager
from pathlib import Path

from itp.system import migrate_all
from libs.common.db import create_database, drop_database
from itp.testing import PG_ADMIN_URL, pg_template

# Tansu holds a new consumer group's first join for about half the session timeout: 3 s starts each group about
# 3 s sooner than the 10 s default (no latency or rate figure includes a join), and leaves a loaded bench's
# heartbeats more slack than the tests' 2 s
TANSU_SESSION_MS = 3000


def warm_up(samples: int) -> int:
    """Untimed requests before the timed ones: 20, or no more than the samples asked for, so that a smoke run of a
    few samples (tests/test_benches_run.py runs each bench with 3) is not mostly warm-up."""
    return min(20, samples)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


@asynccontextmanager
async def migrated_systems(kafka_bootstrap: str | None = None):
    """Yields (Postgres settings, embedded settings): Postgres with the in-process bus, or with Kafka
    (Tansu-friendly settings) when kafka_bootstrap is given; embedded is SQLite and the in-process bus."""
    database = f"itp_bench_{uuid.uuid4().hex[:8]}"
    await create_database(PG_ADMIN_URL, database)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            transport = dict(transport="inprocess")
            if kafka_bootstrap:
                transport = dict(transport="kafka", kafka_bootstrap_servers=kafka_bootstrap,
                                 kafka_enable_idempotence=False, kafka_fetch_max_wait_ms=10, kafka_topic_partitions=1,
                                 kafka_session_timeout_ms=TANSU_SESSION_MS)
            postgres = dict(**transport, database_url_template=pg_template(database), data_dir=Path(tmp) / "pg",
                            log_level="WARNING")
            await migrate_all(admin_url=PG_ADMIN_URL, **postgres)
            embedded = dict(transport="inprocess", data_dir=Path(tmp) / "embedded", log_level="WARNING")
            await migrate_all(**embedded)
            yield postgres, embedded
    finally:
        await drop_database(PG_ADMIN_URL, database)
