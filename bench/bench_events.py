"""`make bench-events`: latency from POST /v1/referrals to the referral being visible in matching,
over Kafka (Tansu) and Postgres, next to raw aiokafka produce-to-consume latency on the same broker
in the same run. Not a test: it prints figures.

The referral path includes: HTTP through the gateway (in-process ASGI), token verification in the
gateway and the referral service, the insert and the outbox row in one Postgres transaction, the
relay woken by the commit, the Kafka round trip, and matching's inbox + read-model transaction.
"""
from __future__ import annotations

import asyncio
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import migrated_systems, pct  # noqa: E402
import httpx  # noqa: E402
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer  # noqa: E402

from itp.system import build_system  # noqa: E402
from libs.common.auth import KeyStore, mint_token  # noqa: E402
from itp.testing import Broker  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 300
WARMUP = 20


async def raw_kafka(bootstrap: str) -> list[float]:
    topic = f"bench-raw-{uuid.uuid4().hex[:8]}"
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False, acks="all", linger_ms=0)
    await producer.start()
    await producer.send_and_wait(topic, b"create", key=b"k")
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"g-{topic}", enable_auto_commit=False,
                                auto_offset_reset="earliest", fetch_max_wait_ms=10)
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

    async def handle(envelope):
        result = await original(envelope)  # returns after matching's transaction committed
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
        print(f"\nbench-events: {N} sequential referrals after {WARMUP} warm-up, Tansu broker + Postgres 15, 2 cores\n")
        print(line("raw aiokafka produce -> consume (baseline)", raw))
        print(line("POST /v1/referrals -> visible in matching", slice_kafka))
        print(line("  same, embedded (in-process bus + SQLite)", slice_embedded))
        print(f"\nratio referral slice / raw Kafka: p50 {statistics.median(slice_kafka) / statistics.median(raw):.2f}x   "
              f"p99 {pct(slice_kafka, 99) / pct(raw, 99):.2f}x")
    finally:
        broker.stop()


if __name__ == "__main__":
    import logging
    logging.disable(logging.WARNING)
    asyncio.run(main())
