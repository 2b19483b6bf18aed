"""`make bench-faults`: the system under database faults, on Postgres and Kafka (Tansu). Not a test: it prints
figures (issue 10 item 4; the pass/fail versions are tests/hostile/test_db_faults.py and test_relay_faults.py).

1. Referral POSTs through the gateway (12 at a time) while the referral service's database backends are
   terminated every 150 ms: answers by status (only 2xx and 503 are right), p50/p99 latency of each kind, and
   whether any of the child's marker strings reached a log line.
2. The relay's publish lag for a commit made in another process (woken only by NOTIFY; the poll is 30 s),
   before and after its LISTEN connection is terminated.
3. 200 pending events, the relay's database connections cut after the 50th message: messages published
   and duplicates (before issue 10: the whole claimed batch went out again).
"""
from __future__ import annotations

import asyncio
import io
import json
import logging
import statistics
import sys
import time
import uuid
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import migrated_systems, pct  # noqa: E402
import httpx  # noqa: E402
from sqlalchemy import select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from itp.system import build_system  # noqa: E402
from itp.testing import PG_ADMIN_URL, Broker, unique, wait_for  # noqa: E402
from libs.common.auth import KeyStore, mint_token  # noqa: E402
from libs.common.db import Database, is_unavailable, make_engine  # noqa: E402
from libs.common.events.catalogue import ReferralWithdrawn, spec_for  # noqa: E402
from libs.common.events.outbox import UnitOfWork, pending_count  # noqa: E402
from libs.common.observability import JsonFormatter  # noqa: E402
from libs.common.runtime import ServiceRuntime  # noqa: E402
from libs.common.settings import Settings  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 200
MARK = uuid.uuid4().hex[:8]
MARKERS = [f"QZXREF-{MARK}", f"QZX summary {MARK}", f"Qzxina Markerson {MARK}", f"qzx.{MARK}@marker.example"]
BODY = {"child_ref": MARKERS[0], "date_of_birth": "2012-03-14", "sex": "female", "legal_status": "C2",
        "urgency": "crisis", "home_postcode": "LE4 6AB", "wanted_start_date": "2026-11-30", "summary": MARKERS[1],
        "needs": [{"code": "mental_health", "severity": "high"}], "risks": [{"code": "self_harm", "severity": "low"}],
        "social_worker": {"name": MARKERS[2], "email": MARKERS[3]}}


def line(label: str, values: list[float]) -> str:
    if not values:
        return f"  {label:<44} (none)"
    return (f"  {label:<44} p50 {statistics.median(values):7.2f} ms   p99 {pct(values, 99):7.2f} ms   "
            f"n={len(values)}")


async def terminate(database: str, *, only_listener: bool = False) -> int:
    admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    where = "usename = 'itp_referral' AND datname = :db AND pid <> pg_backend_pid()"
    if only_listener:
        where += " AND (query LIKE 'LISTEN%' OR query LIKE '%pg_try_advisory_lock%')"
    try:
        async with admin.connect() as conn:
            return len((await conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE {where}"),
                                           {"db": database})).all())
    finally:
        await admin.dispose()


async def fault_run(overrides: dict) -> None:
    system = build_system(**overrides, gateway_rate_limit_per_second=1e6, gateway_rate_limit_burst=10**6)
    gateway = system.gateway
    database = make_url(system.runtime("referral").db.url).database
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    latencies: dict[int, list[float]] = {}
    kills = Counter()
    try:
        async with gateway.router.lifespan_context(gateway):
            keys = KeyStore(system.runtime("gateway").settings.resolved_keys_file)
            council = {"Authorization": "Bearer " + mint_token(keys, client_id="bench", la_code="E10000018",
                                                               scopes=["referrals:write", "referrals:read"],
                                                               ttl_seconds=3600)}
            stop = asyncio.Event()

            async def killer():
                while not stop.is_set():
                    kills["backends"] += await terminate(database)
                    await asyncio.sleep(0.15)

            gate = asyncio.Semaphore(12)
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url="http://gw",
                                         timeout=60) as client:
                async def post():
                    async with gate:
                        t0 = time.perf_counter()
                        r = await client.post("/v1/referrals", json=BODY,
                                              headers={**council, "Idempotency-Key": str(uuid.uuid4())})
                        latencies.setdefault(r.status_code, []).append((time.perf_counter() - t0) * 1000)

                killing = asyncio.create_task(killer())
                try:
                    await asyncio.gather(*(post() for _ in range(N)))
                finally:
                    stop.set()
                    await killing
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    logs = stream.getvalue()
    leaked = [m for m in MARKERS if m in logs]
    statuses = {status: len(v) for status, v in sorted(latencies.items())}
    print(f"1. {N} referral POSTs, 12 at a time, referral's backends terminated every 150 ms "
          f"({kills['backends']} terminated)")
    print(f"  answers by status: {statuses}  (right: only 2xx and 503)")
    for status, values in sorted(latencies.items()):
        print(line(f"POST /v1/referrals answered {status}", values))
    errors = [json.loads(x) for x in logs.splitlines() if '"itp.errors"' in x]
    print(f"  log lines: {len(logs.splitlines())}, child marker strings in them: {len(leaked)}; "
          f"itp.errors lines without a request id: {sum(1 for e in errors if not e.get('request_id'))}")


def referral_runtime(overrides: dict, **extra) -> ServiceRuntime:
    from services.referral.tables import metadata
    settings = Settings.for_service("referral", **{**overrides, "kafka_topic_prefix": unique("b") + ".",
                                                   "consumers_enabled": False, "scheduler_enabled": False, **extra})
    return ServiceRuntime(settings, metadata, handlers={})


async def emit(db: Database, runtime: ServiceRuntime, count: int = 1) -> list[str]:
    async with UnitOfWork(db, runtime.tables[0], runtime.service) as uow:
        ids = [str((await uow.emit(ReferralWithdrawn(referral_id=uuid.uuid4(), withdrawn_at=datetime.now(timezone.utc)),
                                   subject_id=str(uuid.uuid4()), la_code="E10000018")).id) for _ in range(count)]
        await uow.commit()
    return ids


async def lag(runtime: ServiceRuntime, other: Database) -> float:
    outbox = runtime.tables[0]
    t0 = time.perf_counter()
    [event_id] = await emit(other, runtime)

    async def published():
        async with runtime.db.session() as session:
            return (await session.execute(select(outbox.c.published_at).where(outbox.c.event_id == event_id))
                    ).scalar_one() is not None
    await wait_for(published, timeout=60, interval=0.005)
    return (time.perf_counter() - t0) * 1000


async def relisten(overrides: dict) -> None:
    runtime = referral_runtime(overrides, outbox_poll_seconds=30)
    await runtime.start()
    other = Database(runtime.settings)
    try:
        await emit(other, runtime)
        before = [await lag(runtime, other) for _ in range(max(3, N // 20))]
        await terminate(make_url(runtime.db.url).database, only_listener=True)
        t0 = time.perf_counter()
        await wait_for(lambda: getattr(runtime.relay, "listening", False) and runtime.relay.relistens, timeout=60)
        back_ms = (time.perf_counter() - t0) * 1000
        after = [await lag(runtime, other) for _ in range(max(3, N // 20))]
    finally:
        await other.dispose()
        await runtime.stop()
    print("2. the relay's publish lag for a commit in another process (poll 30 s: only NOTIFY wakes it)")
    print(line("before its LISTEN connection is terminated", before))
    print(f"  LISTEN re-established {back_ms:.0f} ms after the termination")
    print(line("after", after))


async def mid_batch(overrides: dict) -> None:
    runtime = referral_runtime(overrides, relay_enabled=False)
    await runtime.start()
    database = make_url(runtime.db.url).database
    try:
        ids = await emit(runtime.db, runtime, count=200)
        real = runtime.relay.transport
        sent = Counter()

        class CutAfter50:
            async def publish(self, topic, key, value, headers=None):
                await real.publish(topic, key, value, headers)
                sent["messages"] += 1
                if sent["messages"] == 50:
                    await terminate(database)

        runtime.relay.transport = CutAfter50()
        t0 = time.perf_counter()
        runtime.relay.start()

        async def drained():
            try:
                async with runtime.db.session() as session:
                    return await pending_count(session, runtime.tables[0]) == 0
            except Exception as exc:  # its pooled connection may be one the cut ended: look again
                if is_unavailable(exc):
                    return False
                raise
        await wait_for(drained, timeout=120)
        drain_ms = (time.perf_counter() - t0) * 1000
        records = await real.read_all(spec_for(ReferralWithdrawn).topic, timeout=10)
    finally:
        await runtime.stop()
    published = Counter(json.loads(r.value)["id"] for r in records)
    print("3. 200 pending events, the relay's connections cut after the 50th message")
    print(f"  messages {sum(published.values())} for {len(published)} events ({len(set(ids) - set(published))} "
          f"missing), duplicates {sum(n - 1 for n in published.values())}, drained in {drain_ms:.0f} ms")


async def main() -> None:
    broker = Broker()
    broker.start()
    try:
        async with migrated_systems(broker.bootstrap) as (postgres, _embedded):
            overrides = {**postgres, "scheduler_enabled": False, "outbox_poll_seconds": 0.5,
                         "kafka_topic_prefix": unique("b") + "."}
            await fault_run(overrides)
            await relisten(overrides)
            await mid_batch(overrides)
    finally:
        broker.stop()


if __name__ == "__main__":
    asyncio.run(main())
