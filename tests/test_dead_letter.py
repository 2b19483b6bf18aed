"""A consumer whose handler keeps failing parks the event on the dead-letter topic with its error;
replay delivers it once the handler is fixed."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import select

from libs.common.events.catalogue import dead_letter_topic

from .support import wait_for
from .support.referrals import REFERRAL, idempotent


def failing(calls: list):
    async def handler(uow, envelope, payload):
        calls.append(envelope.id)
        raise RuntimeError("matching read model unavailable")
    return handler


async def _parked(runtime):
    async with runtime.db.session() as session:
        return (await session.execute(select(runtime.tables[2]))).mappings().all()


async def test_a_repeatedly_failing_event_is_dead_lettered_with_its_error_and_replayed_once_fixed(make_system):
    sut = await make_system(consumer_retry_attempts=3)
    matching = sut.runtime("matching")
    fixed = matching.consumer.handlers["referral.received"]
    calls: list = []
    matching.consumer.handlers["referral.received"] = failing(calls)

    created = await sut.client.post("/v1/referrals", json=REFERRAL, headers=idempotent(sut.council()))
    referral_id = created.json()["id"]
    parked = await wait_for(lambda: _parked(matching))
    assert len(calls) == 3  # tried, retried with backoff, then parked
    assert parked[0]["status"] == "parked" and "matching read model unavailable" in parked[0]["error"]

    records = await wait_for(lambda: matching.transport.read_all(dead_letter_topic("matching")))
    assert len(records) == 1
    assert json.loads(records[0].value)["subject_id"] == referral_id
    assert "matching read model unavailable" in records[0].headers["error"]
    assert records[0].headers["original_topic"] == "itp.referrals"
    assert records[0].headers["attempts"] == "3"

    # the partition was not blocked: later events still flow
    assert (await sut.client.get(f"/v1/referrals/{referral_id}/matches", headers=sut.hub())).status_code == 404

    matching.consumer.handlers["referral.received"] = fixed
    report = await matching.consumer.replay_dead_letters()
    assert [r["status"] for r in report] == ["replayed"]
    ok = await sut.client.get(f"/v1/referrals/{referral_id}/matches", headers=sut.hub())
    assert ok.status_code == 200
    assert await matching.consumer.replay_dead_letters() == []  # nothing parked any more; never twice


@pytest.mark.parametrize("system_overrides", ["inprocess-sqlite"], indirect=True)
async def test_the_replay_command_delivers_parked_events_from_another_process(make_system, system_overrides):
    _, overrides = system_overrides
    sut = await make_system(consumer_retry_attempts=1)
    matching = sut.runtime("matching")
    fixed = matching.consumer.handlers["referral.received"]
    matching.consumer.handlers["referral.received"] = failing([])
    created = await sut.client.post("/v1/referrals", json=REFERRAL, headers=idempotent(sut.council()))
    referral_id = created.json()["id"]
    await wait_for(lambda: _parked(matching))
    matching.consumer.handlers["referral.received"] = fixed

    env = {**os.environ, "ITP_DATA_DIR": str(overrides["data_dir"]), "ITP_LOG_LEVEL": "WARNING"}
    done = subprocess.run([sys.executable, "-m", "itp.cli", "events", "replay", "--dead-letter", "matching"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert [r["status"] for r in report["replayed"]] == ["replayed"]
    ok = await sut.client.get(f"/v1/referrals/{referral_id}/matches", headers=sut.hub())
    assert ok.status_code == 200
