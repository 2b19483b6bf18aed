"""Database faults under load. The referral and matching services' connections terminated again and again
(pg_terminate_backend) while councils post referrals through the gateway and retry what failed with the same
Idempotency-Key, as a client should, and matching consumes them: every answer is 201 or 503 with Retry-After
(never a 500 or 502); the services recover without a restart; every referral answered 201 is there
afterwards, once (one referral per key), readable, and its referral.received reached every consumer. And a
consumer's database refusing it for seconds: its events wait for the database (none parked on the
dead-letter topic, the consumer never stops), then every one is handled once."""
from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from libs.common.db import make_engine
from services.referral.tables import referrals

from ..support import PG_ADMIN_URL, wait_for
from ..support.faults import (QUICK_GROUPS, assert_delivered_once_in_order, assert_read_models_equal_clean_run,
                              outboxes, rows)
from ..support.matching import refer
from ..support.referrals import REFERRAL

pytestmark = pytest.mark.parametrize("system_overrides", ["kafka-postgres"], indirect=True)
REQUESTS, CONCURRENCY, KILL_EVERY = 40, 8, 0.1


async def test_terminated_connections_answer_503_recover_without_a_restart_and_lose_no_accepted_write(make_system):
    sut = await make_system(**QUICK_GROUPS)
    database = make_url(sut.runtime("referral").db.url).database
    admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    council = sut.council()
    stop = asyncio.Event()
    kills = Counter()
    answers: list[httpx.Response] = []
    accepted: dict[str, set[str]] = {}  # child_ref -> the referral ids its 201 answers named

    async def killer():
        while not stop.is_set():
            async with admin.connect() as conn:
                kills["backends"] += len((await conn.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename IN ('itp_referral', 'itp_matching') "
                    "AND datname = :db AND pid <> pg_backend_pid()"), {"db": database})).all())
            await asyncio.sleep(KILL_EVERY)  # the fault's pace: terminate the services' connections every 100 ms

    gate = asyncio.Semaphore(CONCURRENCY)

    async def council_posts(n: int):
        child_ref = f"FAULT-{n:04d}"
        headers = {**council, "Idempotency-Key": str(uuid.uuid4())}  # the same key for every retry
        async with gate:
            for _ in range(100):
                r = await sut.client.post("/v1/referrals", json={**REFERRAL, "child_ref": child_ref}, headers=headers)
                answers.append(r)
                if r.status_code == 201:
                    accepted.setdefault(child_ref, set()).add(r.json()["id"])
                    return
                await asyncio.sleep(0.05)  # a client's backoff before retrying a 503 with the same key

    killing = asyncio.create_task(killer())
    try:
        await asyncio.gather(*(council_posts(n) for n in range(REQUESTS)))
    finally:
        stop.set()
        await killing
        await admin.dispose()
    statuses = Counter(r.status_code for r in answers)
    print(f"answers {dict(statuses)}, {kills['backends']} backends terminated")
    assert kills["backends"] > 0
    assert set(statuses) <= {201, 503}, statuses
    for r in answers:
        if r.status_code == 503:
            assert int(r.headers["retry-after"]) > 0
            assert r.headers["content-type"].startswith("application/problem+json") and r.json()["status"] == 503

    # recovery without a restart: the same running service answers
    again = await sut.client.post("/v1/referrals", json={**REFERRAL, "child_ref": "FAULT-AFTER"},
                                  headers={**council, "Idempotency-Key": str(uuid.uuid4())})
    assert again.status_code == 201, again.text
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sut.system.services["referral"]),
                                 base_url="http://referral") as referral:
        assert (await referral.get("/health/ready")).status_code == 200

    # no accepted write lost, none made twice: every child posted is there once, under the id its 201 named
    assert len(accepted) == REQUESTS and all(len(ids) == 1 for ids in accepted.values())
    stored = await rows(sut.runtime("referral"), select(referrals.c.id, referrals.c.child_ref))
    by_ref = Counter(r["child_ref"] for r in stored)
    assert {ref: n for ref, n in by_ref.items() if ref != "FAULT-AFTER"} == {ref: 1 for ref in accepted}
    ids = {r["child_ref"]: r["id"] for r in stored}
    assert all({ids[ref]} == named for ref, named in accepted.items())
    for ref in list(accepted)[:5]:
        r = await sut.client.get(f"/v1/referrals/{ids[ref]}", headers=council)
        assert r.status_code == 200 and r.json()["child_ref"] == ref
    # one referral.received per referral, and each reached every consumer of it
    written = (await outboxes(sut))["referral"]
    assert Counter(r["event_type"] for r in written)["referral.received"] == REQUESTS + 1
    await assert_delivered_once_in_order(sut)


async def test_a_consumer_whose_database_refuses_it_waits_and_parks_nothing(make_system):
    sut = await make_system(**QUICK_GROUPS)
    matching = sut.runtime("matching")
    database = make_url(matching.db.url).database
    admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text('ALTER ROLE "itp_matching" NOLOGIN'))
            await conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    "WHERE usename = 'itp_matching' AND datname = :db"), {"db": database})
        for _ in range(3):
            await refer(sut)

        def waiting():  # matching's consumer has met the refusal with these events
            return matching.consumer.outage_waits >= 3
        await wait_for(waiting, timeout=30)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text('ALTER ROLE "itp_matching" LOGIN'))
        await admin.dispose()
    waits = matching.consumer.outage_waits
    await assert_delivered_once_in_order(sut)  # none parked, every one handled once
    sizes = await assert_read_models_equal_clean_run(sut)
    print(f"matching's consumer waited {waits} times for its database; read-model rows compared {sizes}")
    assert sizes["matching"]["referrals"] == 3
