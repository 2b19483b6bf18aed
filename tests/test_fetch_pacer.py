"""The consumer's fetch pacing on Tansu (libs/common/events/kafka.py FetchPacer): Tansu holds each fetch for its
whole max wait, so a consumer polls every 10 ms while events flow. After a quiet spell it waits longer per fetch
(far fewer fetches at rest), and the next record puts it back to the short wait. Counted on the wire: the
FetchRequests the consumer's connection sends."""
from __future__ import annotations

import asyncio
import time

from aiokafka.conn import AIOKafkaConnection

from libs.common.events.kafka import KafkaTransport

from .support import unique, wait_for


class FetchCounter:
    def __init__(self, monkeypatch):
        self.count = 0
        self.last_wait_ms: int | None = None  # the max wait of the last fetch sent
        original = AIOKafkaConnection.send

        def send(conn, request, expect_response=True):
            if type(request).__name__.startswith("FetchRequest"):
                self.count += 1
                self.last_wait_ms = getattr(request, "_max_wait_ms", None)
            return original(conn, request, expect_response)
        monkeypatch.setattr(AIOKafkaConnection, "send", send)

    async def rate(self, seconds: float) -> float:
        """Fetches a second over a measuring window (a rate needs its window; nothing waits on it)."""
        before, t0 = self.count, time.perf_counter()
        await asyncio.sleep(seconds)
        return (self.count - before) / (time.perf_counter() - t0)


async def test_an_idle_consumer_polls_less_and_a_record_brings_it_back(kafka_broker, monkeypatch):
    counter = FetchCounter(monkeypatch)
    transport = KafkaTransport(kafka_broker.bootstrap, enable_idempotence=False, partitions=1,
                               topic_prefix=unique("pace") + ".", fetch_max_wait_ms=10, session_timeout_ms=3000,
                               idle_fetch_max_wait_ms=300, idle_after_ms=600)
    got: list[tuple[str, float]] = []

    async def handler(batch):
        got.extend((r.key, time.perf_counter()) for r in batch)

    sub = await transport.subscribe("g", ["itp.referrals"], None, batch_handler=handler)
    try:
        await transport.publish("itp.referrals", "first", b"{}")
        await wait_for(lambda: got, timeout=30)
        busy = await counter.rate(0.4)  # just after a record: the 10 ms wait
        # quiet for longer than idle_after: the consumer's fetches now ask for the long wait
        await wait_for(lambda: counter.last_wait_ms == 300, timeout=10)
        idle = await counter.rate(1.5)
        assert busy >= 20, busy  # 10 ms fetches (and Tansu's round trip): dozens a second
        assert idle <= 6, idle  # 300 ms fetches: about 3 a second
        assert idle * 4 < busy

        # the next record: delivered within the long wait, and the consumer is back on the short one
        sent = time.perf_counter()
        await transport.publish("itp.referrals", "second", b"{}")
        await wait_for(lambda: len(got) == 2, timeout=30)
        assert got[1][0] == "second" and got[1][1] - sent < 1.0
        await wait_for(lambda: counter.last_wait_ms == 10, timeout=5)
        assert await counter.rate(0.4) >= 20
    finally:
        await sub.stop()
        await transport.stop()


async def test_without_an_idle_wait_the_consumer_keeps_its_one_wait(kafka_broker, monkeypatch):
    counter = FetchCounter(monkeypatch)
    transport = KafkaTransport(kafka_broker.bootstrap, enable_idempotence=False, partitions=1,
                               topic_prefix=unique("pace") + ".", fetch_max_wait_ms=100, session_timeout_ms=3000,
                               idle_after_ms=300)
    sub = await transport.subscribe("g", ["itp.referrals"], None, batch_handler=lambda batch: asyncio.sleep(0))
    try:
        await wait_for(lambda: counter.count >= 3, timeout=10)  # polling
        rate = await counter.rate(1.0)  # a window past idle_after (300 ms): still one wait
        assert counter.last_wait_ms == 100
        assert 5 <= rate <= 15, rate  # one fetch per 100 ms, idle or not
    finally:
        await sub.stop()
        await transport.stop()
