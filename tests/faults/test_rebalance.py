"""A replica joining the group while another is in the middle of a handler (a rolling deploy, a scale-out):
the group rebalances under the running handler, so its commit is refused (the old generation, or a partition
now someone else's). The consumer carries on: it keeps handling what it is given after the rebalance, and the
records whose commit was refused go to their partition's owner again (the inbox drops what was done)."""
from __future__ import annotations

import asyncio

from aiokafka.partitioner import DefaultPartitioner

from libs.common.events.kafka import KafkaTransport

from ..support import unique, wait_for

PARTITIONS = [0, 1]


def keys_on_every_partition(n: int = 2) -> list[str]:
    keys, seen = [], {p: 0 for p in PARTITIONS}
    i = 0
    while min(seen.values()) < n:
        key = f"child-{i}"
        p = DefaultPartitioner()(key.encode(), PARTITIONS, PARTITIONS)
        if seen[p] < n:
            keys.append(key)
            seen[p] += 1
        i += 1
    return keys


async def test_a_rebalance_under_a_running_handler_does_not_end_the_consumer(kafka_broker):
    prefix = unique("rb") + "."

    def transport() -> KafkaTransport:
        return KafkaTransport(kafka_broker.bootstrap, enable_idempotence=False, partitions=len(PARTITIONS),
                              topic_prefix=prefix, fetch_max_wait_ms=10, session_timeout_ms=3000)
    first, second = transport(), transport()
    handled = {"first": [], "second": []}
    second_has_partitions = asyncio.Event()

    async def first_handler(batch):
        for record in batch:
            handled["first"].append(record.key)
            if len(handled["first"]) == 1:  # the first record's handler runs until the group has rebalanced
                await asyncio.wait_for(second_has_partitions.wait(), 30)

    async def second_handler(batch):
        handled["second"].extend(record.key for record in batch)
        second_has_partitions.set()

    a = await first.subscribe("g", ["itp.referrals"], None, batch_handler=first_handler)
    b = None
    try:
        for key in keys_on_every_partition():
            await first.publish("itp.referrals", key, b"{}")
        await wait_for(lambda: handled["first"], timeout=30)
        b = await second.subscribe("g", ["itp.referrals"], None, batch_handler=second_handler)
        await wait_for(second_has_partitions.is_set, timeout=30)
        # after the rebalance each replica owns one partition: records on both reach a live consumer
        later = [f"later-{k}" for k in keys_on_every_partition()]
        for key in later:
            await first.publish("itp.referrals", key, b"{}")

        def everything_handled():
            return set(later) <= set(handled["first"]) | set(handled["second"])
        await wait_for(everything_handled, timeout=30)
        assert not a.task.done(), a.task.exception()
        assert any(k in handled["first"] for k in later)  # the first replica still consumes
    finally:
        if b is not None:
            await b.stop()
        await a.stop()
        await first.stop()
        await second.stop()
    print(f"handled by the first replica {handled['first']}, by the second {handled['second']}")
