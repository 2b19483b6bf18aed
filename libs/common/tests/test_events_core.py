"""Fast tests of the event machinery that need no broker or server."""
import asyncio

import pytest

from libs.common.events.catalogue import CATALOGUE, TOPICS, ReferralReceived, spec_for
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
    await asyncio.sleep(0.05)
    await sub.stop()
    assert seen == [b"1"]  # the crash left "2" uncommitted
    sub = await bus.subscribe("g", ["t"], handler)
    await asyncio.sleep(0.05)
    assert seen == [b"1", b"2", b"3"]
    late: list[bytes] = []

    async def other(record):
        late.append(record.value)
    sub2 = await bus.subscribe("another-group", ["t"], other)
    await asyncio.sleep(0.05)
    assert late == [b"1", b"2", b"3"]  # a new group starts from the earliest record
    await sub.stop()
    await sub2.stop()
