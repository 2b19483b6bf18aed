"""Two replicas of every consumer service sharing their consumer groups (this process and another, topics of
two partitions): the other one handles part of the partitions, then is killed with SIGKILL mid-burst. Its
partitions move to the survivor: the events written on them afterwards are handled, every event reached
every consumer once, in order per child, nothing doubled, read models as a clean run's."""
from __future__ import annotations

import asyncio

import pytest
from aiokafka.partitioner import DefaultPartitioner

from ..support import Receiver
from ..support.faults import (QUICK_GROUPS, SERVICES, Pathway, assert_delivered_once_in_order, assert_no_doubles,
                              assert_read_models_equal_clean_run, consumer_process, inbox, outboxes, webhook,
                              webhooks_delivered)
from ..support.matching import refer

pytestmark = pytest.mark.parametrize("system_overrides", ["kafka-postgres"], indirect=True)
PARTITIONS = [0, 1]
READ_REFERRALS = ("matching", "assessment", "billing", "outcomes", "gateway")  # the groups reading itp.referrals


def partition(key: str) -> int:
    return DefaultPartitioner()(key.encode(), PARTITIONS, PARTITIONS)


async def test_a_killed_replicas_partitions_move_to_the_other_and_nothing_is_lost_or_doubled(make_system,
                                                                                            system_overrides, tmp_path):
    overrides = {**system_overrides[1], **QUICK_GROUPS, "kafka_topic_partitions": len(PARTITIONS)}
    sut = await make_system(kafka_topic_partitions=len(PARTITIONS), webhook_allow_http_localhost=True, **QUICK_GROUPS)
    loop = asyncio.get_running_loop()
    async with Receiver() as receiver:
        await webhook(sut, receiver)
        pathway = await Pathway(sut).prepare()
        async with consumer_process(overrides, SERVICES, tmp_path) as other:
            # councils keep referring until the other replica has handled referrals in every group reading them
            deadline = loop.time() + 60
            while not all(any(line["type"] == "referral.received" for line in other.ran(s)) for s in READ_REFERRALS):
                assert loop.time() < deadline, "the second replica was never given a partition"
                pathway.referred.append(await refer(sut))
                await asyncio.sleep(0.3)
            owned = {s: {partition(line["key"]) for line in other.ran(s) if line["type"] == "referral.received"}
                     for s in READ_REFERRALS}
            await pathway.burst(referrals=0)
            await other.kill()
        handled_by_other = {s: len(other.ran(s)) for s in SERVICES}
        # after the kill, referrals on both partitions (so on every partition the killed replica held)
        after = []
        while {partition(r) for r in after} != set(PARTITIONS):
            assert len(after) < 40, "no referral id fell on one of the partitions"
            after.append(await refer(sut))
        await assert_delivered_once_in_order(sut)
        sizes = await assert_read_models_equal_clean_run(sut)
        await webhooks_delivered(sut, receiver)
        await assert_no_doubles(sut, receiver)
        # the killed replica's partitions moved: what was written on them after the kill was handled here
        received_after = {}
        for service in READ_REFERRALS:
            mine = {r for r in after if partition(r) in owned[service]}
            assert mine
            handled = await inbox(sut, service)
            events = [r["event_id"] for r in (await outboxes(sut))["referral"]
                      if r["key"] in mine and r["event_type"] == "referral.received"]
            assert events and all(e in handled for e in events)
            received_after[service] = len(events)
    print(f"the second replica handled {handled_by_other} before it was killed, holding partitions {owned}; "
          f"after the kill {received_after} referral.received on its partitions were handled by the survivor; "
          f"read-model rows compared {sizes}")

