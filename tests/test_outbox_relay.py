"""The transactional outbox and the idempotent consumer, on both transports."""
from __future__ import annotations

from sqlalchemy import func, select

from libs.common.events.catalogue import CATALOGUE
from libs.common.events.envelope import EventEnvelope
from libs.common.events.outbox import pending_count

from .support import wait_for
from .support.referrals import REFERRAL, idempotent


def counting(handler, calls: list):
    async def wrapped(uow, envelope, payload):
        calls.append(str(envelope.id))
        await handler(uow, envelope, payload)
    return wrapped


async def test_an_event_committed_while_the_relay_is_down_arrives_after_restart_and_is_handled_once(make_system):
    sut = await make_system(relay_enabled=False)
    referral_rt, matching_rt = sut.runtime("referral"), sut.runtime("matching")
    calls: list[str] = []
    matching_rt.consumer.handlers["referral.received"] = counting(
        matching_rt.consumer.handlers["referral.received"], calls)

    created = await sut.client.post("/v1/referrals", json=REFERRAL, headers=idempotent(sut.council()))
    assert created.status_code == 201
    referral_id = created.json()["id"]
    async with referral_rt.db.session() as session:
        assert await pending_count(session, referral_rt.tables[0]) == 1
        row = (await session.execute(select(referral_rt.tables[0]))).mappings().one()

    # committed, not published: matching has not heard of it
    assert (await sut.client.get(f"/v1/referrals/{referral_id}/matches", headers=sut.hub())).status_code == 404

    referral_rt.relay.start()  # the relay comes back
    await wait_for(lambda: calls)
    got = await wait_for(lambda: _ok(sut.client.get(f"/v1/referrals/{referral_id}/matches", headers=sut.hub())))
    assert got.json()["referral_id"] == referral_id
    async with referral_rt.db.session() as session:
        assert await pending_count(session, referral_rt.tables[0]) == 0

    # the same event delivered twice more: through the broker, and straight to the consumer
    await referral_rt.transport.publish(row["topic"], row["key"], row["envelope"].encode())
    result = await matching_rt.consumer.handle(EventEnvelope.model_validate_json(row["envelope"]))
    assert result.duplicate
    marker = EventEnvelope(type="referral.withdrawn", producer="referral", subject_id=referral_id,
                           la_code="E10000018", payload={"referral_id": referral_id,
                                                         "withdrawn_at": "2026-11-22T10:00:00Z"})
    # a later event on the same key proves the duplicate has been consumed (and skipped) before it
    await referral_rt.transport.publish(CATALOGUE["referral.withdrawn"].topic, referral_id, marker.to_bytes())
    await wait_for(lambda: _status_is(sut, referral_id, "withdrawn"))
    assert calls == [row["event_id"]]
    inbox = matching_rt.tables[1]
    async with matching_rt.db.session() as session:
        handled = (await session.execute(select(func.count()).select_from(inbox)
                                         .where(inbox.c.event_id == row["event_id"]))).scalar_one()
    assert handled == 1


async def _ok(response_coro):
    response = await response_coro
    return response if response.status_code == 200 else None


async def _status_is(sut, referral_id: str, status: str) -> bool:
    r = await sut.client.get(f"/v1/referrals/{referral_id}/matches", headers=sut.hub())
    return r.status_code == 200 and r.json()["referral_status"] == status


async def test_a_commit_wakes_the_relay_without_waiting_for_the_poll(make_system):
    sut = await make_system(outbox_poll_seconds=30)  # a poll would take 30 s: only the commit's wake-up can pass
    created = await sut.client.post("/v1/referrals", json=REFERRAL, headers=idempotent(sut.council()))
    referral_id = created.json()["id"]
    got = await wait_for(lambda: _ok(sut.client.get(f"/v1/referrals/{referral_id}/matches", headers=sut.hub())),
                         timeout=10)
    assert got.json()["referral_id"] == referral_id
