"""Fast tests of the event machinery that need no broker or server."""
import asyncio
from types import SimpleNamespace

import pytest

from libs.common.events.catalogue import CATALOGUE, TOPICS, ReferralReceived, spec_for
from libs.common.events.outbox import OutboxRelay
from libs.common.events.transport import InProcessBus


def test_every_event_in_the_catalogue_has_a_typed_payload_a_version_and_a_known_topic():
    assert {"referral.received", "referral.updated", "referral.withdrawn", "home.onboarded", "match.assessed",
            "admission.accepted", "admission.declined", "placement.started", "phase.transitioned",
            "pathway_plan.issued", "review.completed", "placement.ended", "fee_period.closed", "invoice.issued",
            "outcome.recorded"} <= set(CATALOGUE)
    for spec in CATALOGUE.values():
        assert spec.version >= 1 and spec.topic in TOPICS
        assert spec_for(spec.payload) is spec


def test_no_event_payload_has_a_field_for_a_name():
    for spec in CATALOGUE.values():
        assert not [f for f in spec.payload.model_fields if "name" in f], spec.type


def test_payloads_refuse_fields_they_do_not_define():
    with pytest.raises(ValueError):
        ReferralReceived.model_validate({"child_name": "x"})


async def _until(predicate, timeout: float = 5.0) -> None:
    """Wait for a condition, not for a time (libs/ may not import itp.testing)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.005)


async def test_the_in_process_bus_delivers_in_order_and_resumes_a_group_from_its_committed_position():
    bus = InProcessBus()
    seen: list[bytes] = []
    crash_on = {b"2"}

    async def handler(record):
        if record.value in crash_on:
            crash_on.clear()
            raise RuntimeError("crash mid-handler")
        seen.append(record.value)

    for v in (b"1", b"2", b"3"):
        await bus.publish("t", "k", v)
    sub = await bus.subscribe("g", ["t"], handler)
    await _until(sub.task.done)  # the consumer has got as far as it can: it crashed on "2"
    assert isinstance(sub.task.exception(), RuntimeError)
    await sub.stop()
    assert seen == [b"1"]  # the crash left "2" uncommitted
    sub = await bus.subscribe("g", ["t"], handler)
    await _until(lambda: len(seen) >= 3)
    assert seen == [b"1", b"2", b"3"]
    late: list[bytes] = []

    async def other(record):
        late.append(record.value)
    sub2 = await bus.subscribe("another-group", ["t"], other)
    await _until(lambda: len(late) >= 3)
    # a later marker reaches both groups: everything before it has been delivered, and only once
    await bus.publish("t", "k", b"marker")
    await _until(lambda: seen[-1:] == [b"marker"] and late[-1:] == [b"marker"])
    assert seen == [b"1", b"2", b"3", b"marker"]
    assert late == [b"1", b"2", b"3", b"marker"]  # a new group starts from the earliest record
    await sub.stop()
    await sub2.stop()


async def test_the_in_process_bus_counts_a_record_unhandled_until_its_handler_returns():
    bus = InProcessBus()
    holding, release = [], asyncio.Event()

    async def handler(record):
        holding.append(record.value)
        await release.wait()
    sub = await bus.subscribe("g", ["t"], handler)
    await bus.publish("t", "k", b"1")
    await bus.publish("t", "k", b"2")
    await _until(lambda: holding == [b"1"])
    assert bus.progress() == (2, 2)
    release.set()
    await _until(lambda: bus.progress() == (2, 0))
    await sub.stop()


async def test_a_relay_woken_by_a_commit_as_it_is_stopped_still_stops():
    """The stop's cancel arriving with a commit's wake-up: on Python 3.11 asyncio.wait_for returned the wake-up
    and dropped the cancel, so the relay ran on until its 10 s stop limit."""
    signal, looked = asyncio.Event(), []
    relay = OutboxRelay(SimpleNamespace(outbox_signal=signal, is_postgres=False), None, None, "t", poll_seconds=30)

    async def nothing_pending() -> int:
        looked.append(1)
        return 0
    relay.publish_pending = nothing_pending
    relay.start()
    await _until(lambda: looked)  # it looked once and waits for the signal
    signal.set()
    relay._task.cancel()
    done, _ = await asyncio.wait({relay._task}, timeout=2)
    assert done, "the relay lost its cancel"
