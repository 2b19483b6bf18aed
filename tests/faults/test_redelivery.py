"""Duplicated and reordered delivery. Every event of every service published again through the broker (the
outbox marked unpublished, as a relay that lost its marks would): once every consumer group has read to the
end again, nothing changed (read models, inboxes, outboxes, webhook deliveries). And the same events handed
to fresh consumers out of order (topic by topic, last topic first, so placements before admissions before
referrals, with duplicates among them) build the same read models as the live, in-order run."""
from __future__ import annotations

import pytest
from sqlalchemy import update

from libs.common.events.catalogue import CATALOGUE

from ..support import Receiver
from ..support.faults import (MIRRORS, QUICK_GROUPS, Pathway, assert_delivered_once_in_order, assert_no_doubles,
                              assert_read_models_equal_clean_run, caught_up, inbox, mirror_state, outboxes, settled,
                              webhook, webhooks_delivered)

pytestmark = pytest.mark.parametrize("system_overrides", ["kafka-postgres"], indirect=True)


def out_of_order(events):
    """Topic by topic, the last topic to appear first (each aggregate's events on one topic stay in order, as
    Kafka keeps them), and each event delivered again three events later."""
    topics = []
    for e in events:
        if CATALOGUE[e.type].topic not in topics:
            topics.append(CATALOGUE[e.type].topic)
    ordered = sorted(events, key=lambda e: -topics.index(CATALOGUE[e.type].topic))  # stable: in order per topic
    out = []
    for i, e in enumerate(ordered):
        out.append(e)
        if i >= 3:
            out.append(ordered[i - 3])
    return out


async def snapshot(sut) -> dict:
    return {"mirrors": {s: await mirror_state(sut.runtime(s), s) for s in MIRRORS},
            "inboxes": {s: set(await inbox(sut, s)) for s in ("referral", "matching", "assessment", "billing",
                                                              "outcomes", "gateway")},
            "outboxes": {s: [r["event_id"] for r in rows] for s, rows in (await outboxes(sut)).items()}}


async def test_redelivered_and_reordered_events_leave_the_same_state(make_system):
    sut = await make_system(webhook_allow_http_localhost=True, **QUICK_GROUPS)
    async with Receiver() as receiver:
        await webhook(sut, receiver)
        pathway = await Pathway(sut).prepare()
        await pathway.burst(referrals=2)
        await assert_delivered_once_in_order(sut)
        await webhooks_delivered(sut, receiver)
        await caught_up(sut)
        before = await snapshot(sut)
        received = len(receiver.received)

        # every event again, through the broker
        republished = 0
        for service in before["outboxes"]:
            runtime = sut.runtime(service)
            async with runtime.db.session() as session, session.begin():
                republished += (await session.execute(update(runtime.tables[0]).values(published_at=None))).rowcount
        await settled(sut)
        await caught_up(sut)
        after = await snapshot(sut)
        assert after == before
        assert len(receiver.received) == received
        await assert_no_doubles(sut, receiver)

        # the same events, out of order and doubled, to fresh consumers: the same read models
        sizes = await assert_read_models_equal_clean_run(sut, order=out_of_order)
    print(f"{republished} events published a second time: no state changed; out-of-order replay compared {sizes}")
    assert republished == sum(len(ids) for ids in before["outboxes"].values())
