"""Several gateway replicas deliver webhooks from one Postgres: each due delivery is claimed by one
worker only (FOR UPDATE SKIP LOCKED plus a lease), so a council never gets a double send from us."""
from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta, timezone

from libs.common.migrations import upgrade
from libs.common.runtime import ServiceRuntime
from libs.common.settings import Settings
from services.gateway.tables import metadata, webhook_deliveries, webhook_endpoints
from services.gateway.webhooks.worker import DeliveryWorker
from tests.support import PG_ADMIN_URL


async def test_replicas_never_claim_the_same_delivery(pg_database, tmp_path):
    settings = Settings.for_service("gateway", data_dir=tmp_path,
                                    database_url=f"postgresql+asyncpg://itp_gateway@127.0.0.1:5432/{pg_database}")
    await upgrade(settings, admin_url=PG_ADMIN_URL)
    replicas = [ServiceRuntime(settings, metadata) for _ in range(4)]
    workers = [DeliveryWorker(r, asyncio.Event(), batch=3) for r in replicas for _ in range(3)]
    now = datetime.now(timezone.utc)
    endpoint = str(uuid.uuid4())
    try:
        async with replicas[0].db.session() as session, session.begin():
            await session.execute(webhook_endpoints.insert().values(
                id=endpoint, la_code="E10000018", client_id="c", url="https://x.example.org/h", event_types=["*"],
                secret="whsec_AAAA", active=True, consecutive_failures=0, created_at=now, updated_at=now))
            await session.execute(webhook_deliveries.insert(), [dict(
                id=f"msg_{i:04d}", endpoint_id=endpoint, la_code="E10000018", event_id=str(uuid.uuid4()),
                event_type="referral.received", body="{}", state="pending", attempts=0,
                next_attempt_at=now - timedelta(seconds=1), created_at=now, updated_at=now) for i in range(120)])
        ids: list[str] = []

        async def keep_claiming(worker):
            while claimed := await worker.claim():
                ids.extend(row["id"] for row in claimed)
        await asyncio.gather(*(keep_claiming(w) for w in workers))
        assert len(ids) == len(set(ids)) == 120
        assert await workers[0].claim() == []  # leased: not due again until the lease runs out
    finally:
        for r in replicas:
            await r.db.dispose()
