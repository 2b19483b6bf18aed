"""Consumers killed mid-event: assessment, billing, outcomes and the gateway's webhook fan-out run as a process
of their own (in the system's consumer groups); each is stopped after its handler's writes and before the
commit (admission.accepted in assessment, the child's placement.started in billing, outcomes and the
gateway), and the process is killed with SIGKILL there. A new process takes over: no placement, charge,
webhook delivery, measure or follow-on event twice, every event handled once, the read models as a clean
run's."""
from __future__ import annotations

from datetime import timedelta

import pytest

from ..support import Receiver, wait_for
from ..support.assessment import today, arrive
from ..support.faults import (Pathway, accept, assert_delivered_once_in_order, assert_no_doubles,
                              assert_read_models_equal_clean_run, QUICK_GROUPS, close_period, consumer_process, inbox,
                              month_start, settled, webhook, webhooks_delivered)

pytestmark = pytest.mark.parametrize("system_overrides", ["kafka-postgres"], indirect=True)
MOVED = ("assessment", "billing", "outcomes", "gateway")
STALL = {"assessment": ["admission.accepted"], "billing": ["placement.started"],
         "outcomes": ["placement.started"], "gateway": ["placement.started"]}


async def test_consumers_killed_after_their_writes_before_the_commit_double_nothing(make_system, system_overrides,
                                                                                   tmp_path):
    overrides = {**system_overrides[1], **QUICK_GROUPS}
    sut = await make_system(webhook_allow_http_localhost=True, **QUICK_GROUPS)
    for service in MOVED:  # these consumers run in the other process, in the same groups
        await sut.runtime(service).consumer.stop()
    async with Receiver() as receiver:
        await webhook(sut, receiver)
        async with consumer_process(overrides, MOVED, tmp_path) as first:
            pathway = await Pathway(sut).prepare(arrived=1, pending=1, ranked_=1)
            await settled(sut)
            first.stall(STALL)
            await accept(sut, pathway.ranked[0], pathway.free[0])
            await arrive(sut, pathway.pending[0], days_ago=1)
            await wait_for(lambda: {line["service"] for line in first.stalled()} == set(MOVED), timeout=30)
            stalled = {line["service"]: line["event_id"] for line in first.stalled()}
            for service, event_id in stalled.items():  # written, never committed
                assert event_id not in await inbox(sut, service)
            await first.kill()
        async with consumer_process(overrides, MOVED, tmp_path) as second:
            await close_period(sut, month_start(today() - timedelta(days=40)))
            wanted = await assert_delivered_once_in_order(sut)
            # the new process handled each event the killed one was stopped in
            for service, event_id in stalled.items():
                assert event_id in {line["event_id"] for line in second.ran(service)}
            sizes = await assert_read_models_equal_clean_run(sut)
            await webhooks_delivered(sut, receiver)
            await assert_no_doubles(sut, receiver)
    print(f"killed mid-event in {sorted(stalled)}; handled per consumer {({s: len(i) for s, i in wanted.items()})}; "
          f"read-model rows compared {sizes}")
    assert sizes["billing"]["placements"] == 2 and sizes["outcomes"]["placements"] == 2
