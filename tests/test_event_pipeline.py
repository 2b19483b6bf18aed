"""A backlog is pipelined (libs/common/events/kafka.py, `prepare`): while one batch's handler waits on its
database, the next batch is fetched and decoded. On Tansu: the next batch is prepared before the handler of the
one before returned, yet handlers still run one at a time, in order, each batch once, and a batch's offsets are
committed only after its handler returned."""
from __future__ import annotations

import asyncio

from libs.common.events.kafka import KafkaTransport

from .support import unique, wait_for
from .test_kafka_commits import committed

TOPIC = "itp.referrals"


async def test_the_next_batch_is_prepared_while_one_is_handled_in_order_and_committed_after(kafka_broker):
    prefix = unique("pipe") + "."
    t = KafkaTransport(kafka_broker.bootstrap, enable_idempotence=False, partitions=1, topic_prefix=prefix,
                       fetch_max_wait_ms=10, session_timeout_ms=3000)
    await t.ensure_topics([TOPIC])
    for i in range(30):  # a backlog: on the topic before the group joins
        await t.publish(TOPIC, "one-child", str(i).encode())
    prepared: list[list[int]] = []
    handled: list[int] = []
    state = {"running": 0, "most": 0, "committed_while_first_ran": "unread"}
    next_prepared = asyncio.Event()

    async def prepare(records):
        prepared.append([int(r.value) for r in records])
        if len(prepared) >= 2:
            next_prepared.set()
        return prepared[-1]

    async def handler(batch: list[int]):
        state["running"] += 1
        state["most"] = max(state["most"], state["running"])
        try:
            if not handled:  # the first batch waits, as on its database, until the next one has been prepared,
                # then asks the broker for the group's offsets: a transport that started the next batch's handler
                # once it was prepared would have it running during these awaits (state["most"] 2)
                await asyncio.wait_for(next_prepared.wait(), 10)
                state["committed_while_first_ran"] = await committed(kafka_broker.bootstrap, prefix + "g",
                                                                     prefix + TOPIC)
            handled.extend(batch)
        finally:
            state["running"] -= 1

    sub = await t.subscribe("g", [TOPIC], None, batch_handler=handler, max_batch=10, prepare=prepare)
    try:
        await wait_for(lambda: len(handled) == 30, timeout=30)
        assert handled == list(range(30))  # in order, each once
        assert [value for batch in prepared for value in batch] == list(range(30))
        assert len(prepared) >= 3 and state["most"] == 1  # prepared ahead, handled one batch at a time
        assert state["committed_while_first_ran"] is None  # nothing committed while the first batch was handled
        await wait_for(lambda: _committed(kafka_broker.bootstrap, prefix, 30), timeout=10, interval=0.1)
    finally:
        await sub.stop()
        await t.stop()


async def _committed(bootstrap: str, prefix: str, offset: int) -> bool:
    return await committed(bootstrap, prefix + "g", prefix + TOPIC) == offset
