"""The broker frozen for 30 s (SIGSTOP, then SIGCONT: the test broker keeps its data only in memory, so it is
never killed) while the hub and a council refer children, accept admissions, move phases and close a fee
period: afterwards every event reached every consumer once, each child's events in order, no event was
parked, each read model equals a clean run's, and the council's webhooks arrived once each."""
from __future__ import annotations

import asyncio
import os
import signal

import pytest

from ..support import Receiver
from ..support.faults import (QUICK_GROUPS, Pathway, assert_delivered_once_in_order, assert_no_doubles,
                              assert_read_models_equal_clean_run, outboxes, settled, webhook, webhooks_delivered)

pytestmark = pytest.mark.parametrize("system_overrides", ["kafka-postgres"], indirect=True)
FREEZE_SECONDS = 30


async def test_a_broker_frozen_for_30_seconds_during_a_burst_loses_reorders_and_doubles_nothing(make_system,
                                                                                                kafka_broker):
    sut = await make_system(webhook_allow_http_localhost=True, **QUICK_GROUPS)
    loop = asyncio.get_running_loop()
    async with Receiver() as receiver:
        await webhook(sut, receiver)
        pathway = await Pathway(sut).prepare()
        await settled(sut)
        os.kill(kafka_broker.proc.pid, signal.SIGSTOP)
        frozen_at = loop.time()
        try:
            await pathway.burst()
            burst = loop.time() - frozen_at
            assert burst < FREEZE_SECONDS, f"the burst took {burst:.1f} s: longer than the freeze"
            # the fault itself: the broker stays frozen for the whole 30 s the issue names (not a wait for a
            # condition; what must hold afterwards is waited for with deadlines below)
            await asyncio.sleep(FREEZE_SECONDS - burst)
            held = sum(r["published_at"] is None for rows in (await outboxes(sut)).values() for r in rows)
        finally:
            os.kill(kafka_broker.proc.pid, signal.SIGCONT)
        thawed_at = loop.time()
        assert held > 0  # the burst's events were waiting for the broker
        wanted = await assert_delivered_once_in_order(sut)
        caught_up = loop.time() - thawed_at
        sizes = await assert_read_models_equal_clean_run(sut)
        await webhooks_delivered(sut, receiver)
        await assert_no_doubles(sut, receiver)
    print(f"burst {burst:.1f} s, {held} events held during the {FREEZE_SECONDS} s freeze; every consumer caught up "
          f"{caught_up:.1f} s after the thaw; handled per consumer {({s: len(i) for s, i in wanted.items()})}; "
          f"read-model rows compared {sizes}")
    assert sizes["billing"]["placements"] == len(pathway.arrived) + len(pathway.pending)
