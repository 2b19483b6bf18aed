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
                                 kafka_enable_idempotence=False, kafka_fetch_max_wait_ms=10, kafka_topic_partitions=1)
            postgres = dict(**transport, database_url_template=pg_template(database), data_dir=Path(tmp) / "pg",
                            log_level="WARNING")
            await migrate_all(admin_url=PG_ADMIN_URL, **postgres)
            embedded = dict(transport="inprocess", data_dir=Path(tmp) / "embedded", log_level="WARNING")
            await migrate_all(**embedded)
            yield postgres, embedded
    finally:
        await drop_database(PG_ADMIN_URL, database)
