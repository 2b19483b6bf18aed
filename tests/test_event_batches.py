"""Consumers handle a backlog a batch at a time (issue 15 item 3): the inbox asked once for the batch, one
transaction, one offset commit; the guarantees stay those of one event at a time: order per key, each event
handled once (duplicates in the batch and ones handled before change nothing), and a poison event isolated
and parked on the dead-letter topic while the rest of its batch lands once."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timezone

from sqlalchemy import func, select

from libs.common.events.catalogue import NeedOrRisk, ReferralReceived, ReferralUpdated, dead_letter_topic, spec_for
from libs.common.events.envelope import EventEnvelope
from libs.common.runtime import make_transport
from libs.common.settings import Settings
from services.matching.tables import referrals

from .support import wait_for

TOPIC = spec_for(ReferralReceived).topic


def received(referral_id: str, **facts) -> EventEnvelope:
    payload = ReferralReceived(referral_id=referral_id, child_ref="BATCH-1", date_of_birth=date(2012, 3, 14),
                               sex="female", urgency="crisis", received_at=datetime.now(timezone.utc),
                               needs=[NeedOrRisk(code="mental_health", severity="high")], **facts)
    return EventEnvelope(type="referral.received", producer="referral", subject_id=referral_id,
                         la_code="E10000018", payload=payload.model_dump(mode="json"))


def updated(referral_id: str) -> EventEnvelope:
    payload = ReferralUpdated(referral_id=referral_id, child_ref="BATCH-1", date_of_birth=date(2012, 3, 14),
                              sex="female", urgency="planned", received_at=datetime.now(timezone.utc),
                              needs=[NeedOrRisk(code="self_harm", severity="low")])
    return EventEnvelope(type="referral.updated", producer="referral", subject_id=referral_id,
                         la_code="E10000018", payload=payload.model_dump(mode="json"))


async def count(runtime, table, *where) -> int:
    async with runtime.db.session() as session:
        return (await session.execute(select(func.count()).select_from(table).where(*where))).scalar_one()


async def with_backlog(make_system, system_overrides, envelopes: list[EventEnvelope], **extra):
    """The system started with a backlog waiting for matching's group: on Kafka the events are on the topic
    before the group first joins (a group rejoining after a stop waits out the broker's rebalance); on the
    in-process bus matching's consumer is stopped, the events published, and it is started again."""
    mode, base = system_overrides
    if mode == "kafka-postgres":
        transport = make_transport(Settings(**{**base, **extra}))
        try:
            await _publish(transport, envelopes)
        finally:
            await transport.stop()
        return await make_system(**extra)
    sut = await make_system(**extra)
    matching = sut.runtime("matching")
    await matching.consumer.stop()
    await _publish(matching.transport, envelopes)
    await matching.consumer.start()
    return sut


async def _publish(transport, envelopes: list[EventEnvelope]) -> None:
    await transport.ensure_topics([TOPIC])
    for envelope in envelopes:
        await transport.publish(TOPIC, envelope.subject_id, envelope.to_bytes(), {"event_type": envelope.type})


async def test_a_backlog_is_handled_in_batches_in_order_per_key_and_each_event_once(make_system, system_overrides):
    ids = [str(uuid.uuid4()) for _ in range(40)]
    first = received(ids[0])
    backlog = [first] + [received(i) for i in ids[1:]] + [first, updated(ids[5])]  # first: delivered twice
    backlog.insert(10, backlog[3])  # and another event twice, close together
    sut = await with_backlog(make_system, system_overrides, backlog)
    matching = sut.runtime("matching")

    await wait_for(lambda: _all_handled(matching, len(ids) + 1), timeout=30)
    assert (await matching.consumer.handle(first)).duplicate  # once more, directly: nothing to do
    assert matching.consumer.batches >= 1 and matching.consumer.batch_fallbacks == 0
    assert await count(matching, referrals, referrals.c.id.in_(ids)) == len(ids)
    async with matching.db.session() as session:
        row = (await session.execute(select(referrals).where(referrals.c.id == ids[5]))).mappings().one()
    # the update came after the referral's received event in the same batch and was applied after it
    assert row["urgency"] == "planned" and row["needs"] == [{"code": "self_harm", "severity": "low"}]
    assert await count(matching, matching.tables[2]) == 0  # nothing parked


async def _all_handled(runtime, expected: int) -> bool:
    return await count(runtime, runtime.tables[1]) == expected


async def test_a_poison_event_in_a_batch_is_isolated_and_parked_and_the_rest_of_the_batch_lands_once(
        make_system, system_overrides):
    ids = [str(uuid.uuid4()) for _ in range(12)]
    unreadable = received(str(uuid.uuid4()))
    unreadable.payload.pop("sex")  # a payload its schema refuses: set apart when the batch is decoded
    unstorable = received(str(uuid.uuid4()))
    unstorable.la_code = None  # reads, but its row cannot be stored: fails the batch's transaction
    backlog = [received(i) for i in ids[:6]] + [unreadable] + [received(i) for i in ids[6:9]] + [unstorable] \
        + [received(i) for i in ids[9:]]
    sut = await with_backlog(make_system, system_overrides, backlog, consumer_retry_attempts=2)
    matching = sut.runtime("matching")

    parked = await wait_for(lambda: _parked(matching, 2), timeout=30)
    await wait_for(lambda: _all_handled(matching, len(ids)), timeout=30)
    assert [row["event_id"] for row in parked] == [str(unreadable.id), str(unstorable.id)]
    assert await count(matching, referrals, referrals.c.id.in_(ids)) == len(ids)
    assert matching.consumer.batch_fallbacks >= 1  # the batch with the unstorable event failed as a whole and
    # was handled event by event
    async def dead_lettered():
        records = await matching.transport.read_all(dead_letter_topic("matching"))
        return records if len(records) == 2 else None
    records = await wait_for(dead_lettered, timeout=30)
    assert [EventEnvelope.from_bytes(r.value).id for r in records] == [unreadable.id, unstorable.id]


async def _parked(runtime, expected: int):
    async with runtime.db.session() as session:
        rows = (await session.execute(select(runtime.tables[2]).order_by(runtime.tables[2].c.id))).mappings().all()
    return rows if len(rows) == expected else None
