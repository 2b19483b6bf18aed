"""Offsets committed at most every commit_interval_ms (libs/common/events/kafka.py, ITP_KAFKA_COMMIT_INTERVAL_MS)
on Tansu: a stream of events costs the broker one OffsetCommit per interval, not one per event; when the topic
goes quiet the last handled offsets are committed without waiting for another record; a consumer stopped
commits what it handled; and a consumer that dies before its commit has those events handled again by the next
member of its group (a service's inbox then drops them: tests/faults covers that with real services)."""
from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.conn import AIOKafkaConnection

from libs.common.events.kafka import KafkaTransport

from .support import unique, wait_for


def count_commits(monkeypatch) -> dict:
    seen = {"commits": 0}
    original = AIOKafkaConnection.send

    def send(conn, request, expect_response=True):
        if type(request).__name__.startswith("OffsetCommitRequest"):
            seen["commits"] += 1
        return original(conn, request, expect_response)
    monkeypatch.setattr(AIOKafkaConnection, "send", send)
    return seen


async def committed(bootstrap: str, group: str, topic: str) -> int | None:
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await reader.start()
    try:
        return await reader.committed(TopicPartition(topic, 0))
    finally:
        await reader.stop()


async def handle_then_stop(t: KafkaTransport, keys: list[str]) -> list[str]:
    """Subscribe to a topic, publish `keys`, wait until the consumer has handled them, stop it; what it handled."""
    handled: list[str] = []

    async def handler(batch):
        handled.extend(r.key for r in batch)

    sub = await t.subscribe("g", ["itp.referrals"], None, batch_handler=handler)
    for key in keys:
        await t.publish("itp.referrals", key, b"{}")
    await wait_for(lambda: len(handled) == len(keys), timeout=30)
    await sub.stop()
    await t.stop()
    return handled


def transport(bootstrap: str, prefix: str, interval_ms: int) -> KafkaTransport:
    return KafkaTransport(bootstrap, enable_idempotence=False, partitions=1, topic_prefix=prefix,
                          fetch_max_wait_ms=10, session_timeout_ms=3000, commit_interval_ms=interval_ms)


async def test_a_stream_commits_once_an_interval_and_the_rest_when_quiet(kafka_broker, monkeypatch):
    seen = count_commits(monkeypatch)
    prefix = unique("commit") + "."
    t = transport(kafka_broker.bootstrap, prefix, 400)
    handled: list[str] = []
    batches = {"n": 0}

    async def handler(batch):
        batches["n"] += 1
        handled.extend(r.key for r in batch)

    sub = await t.subscribe("g", ["itp.referrals"], None, batch_handler=handler)
    try:
        for i in range(40):  # a steady stream, about 1.2 s of it
            await t.publish("itp.referrals", f"k{i}", b"{}")
            await asyncio.sleep(0.03)
        await wait_for(lambda: len(handled) == 40, timeout=30)
        # quiet now: the last offsets are committed within the interval, no further record needed
        async def all_committed():
            return await committed(kafka_broker.bootstrap, prefix + "g", prefix + "itp.referrals") == 40
        await wait_for(all_committed, timeout=10, interval=0.1)
        assert batches["n"] >= 10  # the stream came in many small batches...
        assert seen["commits"] <= 6, seen  # ...committed about once each 400 ms (and once when quiet)
    finally:
        await sub.stop()
        await t.stop()


async def test_killed_before_its_commit_the_next_member_handles_them_again(kafka_broker):
    prefix = unique("commit") + "."
    first = transport(kafka_broker.bootstrap, prefix, 60_000)  # commits only when stopped or quiet for a minute

    async def dies_first(consumer, offsets):  # the process dies before it commits: no offset reaches the group
        return None
    first._commit = dies_first
    await handle_then_stop(first, [f"k{i}" for i in range(5)])
    assert await committed(kafka_broker.bootstrap, prefix + "g", prefix + "itp.referrals") is None

    second = transport(kafka_broker.bootstrap, prefix, 0)
    handled_second: list[str] = []

    async def handler2(batch):
        handled_second.extend(r.key for r in batch)

    sub2 = await second.subscribe("g", ["itp.referrals"], None, batch_handler=handler2)
    try:
        await second.publish("itp.referrals", "k5", b"{}")
        await wait_for(lambda: "k5" in handled_second, timeout=30)
        # the next member starts where the group's offset is: nothing was committed, so all six, none lost
        assert sorted(handled_second) == sorted(f"k{i}" for i in range(6))
    finally:
        await sub2.stop()
        await second.stop()


async def test_a_stopped_consumer_commits_what_it_handled(kafka_broker):
    prefix = unique("commit") + "."
    t = transport(kafka_broker.bootstrap, prefix, 60_000)
    assert len(await handle_then_stop(t, ["k0", "k1", "k2"])) == 3
    assert await committed(kafka_broker.bootstrap, prefix + "g", prefix + "itp.referrals") == 3
