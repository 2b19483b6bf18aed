"""`make bench-events`: latency from POST /v1/referrals to the referral being visible in matching,
over Kafka (Tansu) and Postgres, next to raw aiokafka produce-to-consume latency on the same broker
in the same run; then throughput: the referral relay publishing a backlog of 100,000 outbox rows, and a
fresh consumer group replaying them into matching's referrals read model on Postgres, each with the
per-event path (one broker round trip / one transaction per event) measured in the same run as the baseline.
`python bench/bench_events.py [N] [REPLAY]`: N sequential referrals (default 300); REPLAY events (default
100,000; the smoke test's small N makes it N * 200). Not a test: it prints figures.

The referral path includes: HTTP through the gateway (in-process ASGI), token verification in the
gateway and the referral service, the insert and the outbox row in one Postgres transaction, the
relay woken by the commit, the Kafka round trip, and matching's inbox + read-model transaction.

The replay: "consumer, batched" is the group as every service runs it (consumer_max_batch events a
transaction); "consumer, one by one" is the same consumer with max_batch=1 (an inbox query, a transaction and
an offset commit per event), the path before batching.
"""
from __future__ import annotations

import asyncio
import gc
import os
import statistics
import sys
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import TANSU_SESSION_MS, migrated_systems, pct, warm_up  # noqa: E402
import httpx  # noqa: E402
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer  # noqa: E402

from itp.system import build_system  # noqa: E402
from libs.common.auth import KeyStore, mint_token  # noqa: E402
from itp.testing import Broker  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 300
WARMUP = warm_up(N)
REPLAY = int(sys.argv[2]) if len(sys.argv) > 2 else (100_000 if N >= 100 else N * 200)
BASELINE = min(REPLAY // 2, 5_000)  # the per-event paths are timed on the first events only (a rate is a rate)


async def raw_kafka(bootstrap: str) -> list[float]:
    topic = f"bench-raw-{uuid.uuid4().hex[:8]}"
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False, acks="all", linger_ms=0)
    await producer.start()
    await producer.send_and_wait(topic, b"create", key=b"k")
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"g-{topic}", enable_auto_commit=False,
                                auto_offset_reset="earliest", fetch_max_wait_ms=10, session_timeout_ms=TANSU_SESSION_MS,
                                heartbeat_interval_ms=TANSU_SESSION_MS // 3)
    await consumer.start()
    await consumer.getone()
    latencies = []
    try:
        for i in range(N + WARMUP):
            t0 = time.perf_counter()
            await producer.send_and_wait(topic, str(i).encode(), key=b"k")
            await consumer.getone()
            if i >= WARMUP:
                latencies.append((time.perf_counter() - t0) * 1000)
    finally:
        await consumer.stop()
        await producer.stop()
    return latencies


async def referral_to_matching(overrides: dict) -> list[float]:
    system = build_system(**overrides)
    gateway = system.gateway
    matching = system.runtime("matching")
    seen: dict[str, asyncio.Event] = {}
    original = matching.consumer.handle

    async def handle(envelope, payload=None):
        result = await original(envelope, payload)  # returns after matching's transaction committed
        if envelope.type == "referral.received" and envelope.subject_id in seen:
            seen[envelope.subject_id].set()
        return result
    matching.consumer.handle = handle

    body = {"child_ref": "BENCH-1", "date_of_birth": "2012-03-14", "sex": "female", "urgency": "crisis",
            "home_postcode": "LE4 6AB", "needs": [{"code": "mental_health", "severity": "high"}],
            "social_worker": {"name": "Bench Worker", "email": "bench@example.gov.uk"}}
    latencies = []
    async with gateway.router.lifespan_context(gateway):
        token = mint_token(KeyStore(system.runtime("gateway").settings.resolved_keys_file), client_id="bench",
                           la_code="E10000018", scopes=["referrals:write", "referrals:read"], ttl_seconds=3600)
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url="http://gw") as client:
            for i in range(N + WARMUP):
                t0 = time.perf_counter()
                r = await client.post("/v1/referrals", json=body, headers={**headers, "Idempotency-Key": f"b-{i}-{uuid.uuid4()}"})
                assert r.status_code in (200, 201), r.text
                referral_id = r.json()["id"]
                event = seen.setdefault(referral_id, asyncio.Event())
                # the event may already have been handled before we registered: check the read model too
                await asyncio.wait_for(_visible(matching, referral_id, event), timeout=10)
                if i >= WARMUP:
                    latencies.append((time.perf_counter() - t0) * 1000)
    return latencies


async def _visible(matching, referral_id: str, event: asyncio.Event) -> None:
    from sqlalchemy import select

    from services.matching.tables import referrals
    while not event.is_set():
        async with matching.db.session() as session:
            if (await session.execute(select(referrals.c.id).where(referrals.c.id == referral_id))).first():
                return
        try:
            await asyncio.wait_for(event.wait(), timeout=0.05)
        except asyncio.TimeoutError:
            pass


async def replay_throughput(bootstrap: str) -> dict[str, tuple[int, float]]:
    """(events, seconds) for: the relay one-by-one and batched, the consumer one-by-one and batched (the consumer's
    from its first event handled: a fresh group first joins, and that time is reported apart, under "joins")."""
    from sqlalchemy import func, select, text

    from libs.common.db import Database, create_database, drop_database
    from libs.common.events.catalogue import NeedOrRisk, ReferralReceived
    from libs.common.events.consumer import EventConsumer
    from libs.common.events.kafka import KafkaTransport
    from libs.common.events.outbox import OutboxRelay, UnitOfWork
    from libs.common.settings import Settings
    from itp.system import migrate_all
    from itp.testing import PG_ADMIN_URL, pg_template
    from services.matching.handlers import HANDLERS
    from services.matching.tables import metadata as matching_metadata
    from services.referral.tables import metadata as referral_metadata

    database = f"itp_bench_{uuid.uuid4().hex[:8]}"
    await create_database(PG_ADMIN_URL, database)
    overrides = dict(transport="kafka", database_url_template=pg_template(database), log_level="WARNING")
    dbs: list[Database] = []
    transport = KafkaTransport(bootstrap, client_id="bench-replay", enable_idempotence=False, partitions=3,
                               topic_prefix=f"bench{uuid.uuid4().hex[:6]}.", fetch_max_wait_ms=10,
                               session_timeout_ms=TANSU_SESSION_MS)
    figures: dict[str, tuple[int, float]] = {}
    try:
        await migrate_all(("referral", "matching"), admin_url=PG_ADMIN_URL, **overrides)
        referral_db = Database(Settings.for_service("referral", **overrides))
        matching_db = Database(Settings.for_service("matching", **overrides))
        dbs += [referral_db, matching_db]
        outbox = referral_metadata.tables["outbox"]
        now = datetime.now(timezone.utc)
        for start in range(0, REPLAY, 2_000):
            async with UnitOfWork(referral_db, outbox, "referral") as uow:
                await uow.emit_many([(ReferralReceived(
                    referral_id=uuid.uuid4(), child_ref=f"R{i}", date_of_birth=date(2011, 1, 1) + timedelta(days=i % 2000),
                    sex=("female", "male")[i % 2], home_outward_code="LE4", urgency="crisis", received_at=now,
                    needs=[NeedOrRisk(code="mental_health", severity="high")]), str(uuid.uuid4()), "E10000018")
                    for i in range(start, min(REPLAY, start + 2_000))])
                await uow.commit()
        await transport.start()

        class OneByOne:  # the transport as the per-event relay sees it: no publish_many
            publish = transport.publish

        async def publish(relay: OutboxRelay, events: int) -> float:
            t0 = time.perf_counter()
            while relay.published < events:
                if not await relay.publish_pending():
                    break
            await relay._close_listener()  # its lease goes with it
            return time.perf_counter() - t0

        single = OutboxRelay(referral_db, outbox, OneByOne(), "referral", batch=100)
        figures["relay, one by one"] = (BASELINE, await publish(single, BASELINE))
        batched = OutboxRelay(referral_db, outbox, transport, "referral", batch=500)
        figures["relay, batched"] = (REPLAY - single.published, await publish(batched, REPLAY - single.published))

        inbox = matching_metadata.tables["inbox"]

        async def handled() -> int:
            async with matching_db.session() as session:
                return (await session.execute(select(func.count()).select_from(inbox))).scalar_one()

        async def replay(group: str, max_batch: int, events: int) -> float:
            async with matching_db.engine.begin() as conn:  # an empty read model each time
                await conn.execute(text("TRUNCATE inbox, referrals CASCADE"))
            # as a service process is once started (itp/serving.py frozen_after_start_up): what lives on is out of
            # the collector's full passes (here that is also the set-up's 100,000 events: left in, the collector
            # walked them again and again, a quarter of the consumer's CPU)
            gc.collect()
            gc.freeze()
            tables = tuple(matching_metadata.tables[t] for t in ("outbox", "inbox", "dead_letters"))
            consumer = EventConsumer("matching", matching_db, tables, transport, HANDLERS, max_batch=max_batch)
            await transport.ensure_topics(consumer.topics)
            t0 = time.perf_counter()
            if max_batch > 1:  # as EventConsumer.start subscribes
                sub = await transport.subscribe(group, consumer.topics, consumer.on_record,
                                                batch_handler=consumer.deliver_batch, max_batch=max_batch,
                                                prepare=consumer.decode_batch)
            else:
                sub = await transport.subscribe(group, consumer.topics, consumer.on_record)
            try:
                # progress from the consumer's count of events committed (polling count(*) of a growing inbox
                # every 50 ms was Postgres work competing with the replay); the read model is counted at the end
                while consumer.handled == 0:  # the group joins and is given its partitions
                    await asyncio.sleep(0.005)
                t1, cpu1, first = time.perf_counter(), time.process_time(), consumer.handled
                while consumer.handled < events:
                    await asyncio.sleep(0.01)
                joins[group] = t1 - t0
                cpu[group] = (time.process_time() - cpu1) / max(1, events - first)
                elapsed = time.perf_counter() - t1
                assert await handled() >= events  # in the inbox, committed
                return events - first, elapsed
            finally:
                await sub.stop()

        joins: dict[str, float] = {}
        cpu: dict[str, float] = {}  # this process's CPU seconds per event while the group replays
        figures["consumer, one by one"] = await replay("bench-single", 1, BASELINE)
        figures["consumer, batched"] = await replay("bench-batched", 500, REPLAY)
        figures["joins"] = joins
        figures["cpu"] = cpu
        async with matching_db.session() as session:
            distinct = (await session.execute(select(func.count()).select_from(
                matching_metadata.tables["referrals"]))).scalar_one()
        assert distinct == REPLAY, (distinct, REPLAY)  # every event in the read model, once
    finally:
        await transport.stop()
        for db in dbs:
            await db.dispose()
        await drop_database(PG_ADMIN_URL, database)
    return figures


def line(label: str, values: list[float]) -> str:
    return (f"{label:<46} p50 {statistics.median(values):7.2f} ms   p99 {pct(values, 99):7.2f} ms   "
            f"mean {statistics.fmean(values):7.2f} ms   n={len(values)}")


async def main() -> None:
    broker = Broker()
    broker.start()
    try:
        async with migrated_systems(broker.bootstrap) as (kafka, inproc):
            raw = await raw_kafka(broker.bootstrap)
            slice_kafka = await referral_to_matching(kafka)
            slice_embedded = await referral_to_matching(inproc)
        throughput = await replay_throughput(broker.bootstrap)
        print(f"\nbench-events: {N} sequential referrals after {WARMUP} warm-up, Tansu broker + Postgres 15, 2 cores\n")
        print(line("raw aiokafka produce -> consume (baseline)", raw))
        print(line("POST /v1/referrals -> visible in matching", slice_kafka))
        print(line("  same, embedded (in-process bus + SQLite)", slice_embedded))
        print(f"\nratio referral slice / raw Kafka: p50 {statistics.median(slice_kafka) / statistics.median(raw):.2f}x   "
              f"p99 {pct(slice_kafka, 99) / pct(raw, 99):.2f}x")
        print(f"\nthroughput: {REPLAY:,} referral.received events, Tansu (3 partitions) + Postgres; "
              f"per-event baselines timed on the first {BASELINE:,}\n")
        joins = throughput.pop("joins")
        cpu = throughput.pop("cpu")
        rates = {label: n / seconds for label, (n, seconds) in throughput.items()}
        for label, (n, seconds) in throughput.items():
            print(f"{label + ':':<58} {rates[label]:9,.0f} events/s   ({n:,} in {seconds:.2f} s)")
        print(f"\nratio relay batched / one by one: {rates['relay, batched'] / rates['relay, one by one']:.1f}x   "
              f"ratio replay batched / one by one: {rates['consumer, batched'] / rates['consumer, one by one']:.1f}x   "
              f"(target: a fresh group replays >= 5,000 events/s: "
              f"{'met' if rates['consumer, batched'] >= 5000 else 'NOT met'})")
        print(f"consumer rates from the first event handled; the fresh groups' join took "
              f"{', '.join(f'{s:.1f} s' for s in joins.values())}; load average {os.getloadavg()[0]:.1f} "
              f"on {os.cpu_count()} cores")
        batched_cpu = cpu.get("bench-batched", 0.0)
        if batched_cpu:
            print(f"the batched consumer's own CPU: {batched_cpu * 1e6:.0f} us/event (one by one: "
                  f"{cpu.get('bench-single', 0.0) * 1e6:.0f} us/event), i.e. {1 / batched_cpu:,.0f} events/s for "
                  f"a consumer with a core of its own (Postgres and the broker on the other)")
    finally:
        broker.stop()


if __name__ == "__main__":
    import logging

    import uvloop
    logging.disable(logging.WARNING)
    uvloop.run(main())  # the event loop every ITP process runs on (itp serve, itp run, itp relay)
