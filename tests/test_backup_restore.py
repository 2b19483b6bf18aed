"""The restore drill (issue 15 item 6, decision 0006): `itp backup` a running system on Postgres and Kafka,
`itp restore` it into a fresh database, and find every child's record, plan version and invoice intact, with
each service's consumer group resuming from the backup's offsets: events the dump already holds change nothing
(the restored inboxes), and a new event after the restore is handled exactly once."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import func, select

from itp.backup import BackupError, group_offsets, restore
from libs.common.db import create_database, drop_database
from libs.common.settings import SERVICES, Settings

from .support import PG_ADMIN_URL, pg_template, unique, wait_for
from .support.assessment import admit, arrive, issue_plan, key, new_home
from .support.matching import refer

pytestmark = pytest.mark.parametrize("system_overrides", ["kafka-postgres"], indirect=True)
ROOT = Path(__file__).resolve().parent.parent
FINANCE = ("billing:write", "invoices:read")


async def inbox_count(runtime) -> int:
    async with runtime.db.session() as session:
        return (await session.execute(select(func.count()).select_from(runtime.tables[1]))).scalar_one()


async def caught_up(overrides: dict) -> bool:
    """Every service's group has committed up to the end of every partition it reads."""
    groups = await group_offsets(Settings(**overrides))
    consumer = AIOKafkaConsumer(bootstrap_servers=overrides["kafka_bootstrap_servers"])
    await consumer.start()
    try:
        for topics in groups.values():
            committed = {TopicPartition(t, int(p)): o for t, parts in topics.items() for p, o in parts.items()}
            ends = await consumer.end_offsets(list(committed))
            if any(offset < ends[tp] for tp, offset in committed.items()):
                return False
        return True
    finally:
        await consumer.stop()


async def records(sut, children: list[str], plans: list[dict], invoices: list[str]) -> dict:
    """What the drill compares: each child's referral and placements, every plan version, every invoice."""
    hub, out = sut.hub(), {}
    for child in children:
        out[f"referral {child}"] = (await sut.client.get(f"/v1/referrals/{child}", headers=hub)).json()
        out[f"placements {child}"] = (await sut.client.get("/v1/placements", params={"referral_id": child},
                                                           headers=hub)).json()
    for plan in plans:
        versions = (await sut.client.get(f"/v1/plans/{plan['id']}/versions", headers=hub)).json()
        out[f"plan {plan['id']}"] = versions
        for v in versions["items"]:
            out[f"plan {plan['id']} v{v['version']}"] = (await sut.client.get(
                f"/v1/plans/{plan['id']}/versions/{v['version']}", headers=hub)).json()
    for invoice in invoices:
        out[f"invoice {invoice}"] = (await sut.client.get(f"/v1/invoices/{invoice}", headers=hub)).json()
    return out


async def test_a_running_system_is_backed_up_restored_into_a_fresh_database_and_resumes_its_events(
        make_system, system_overrides, tmp_path):
    _, base = system_overrides
    clock = [time.perf_counter()]

    def lap() -> float:
        clock.append(time.perf_counter())
        return clock[-1] - clock[-2]
    sut = await make_system()
    finance = sut.hub("finance", scopes=FINANCE)
    placements = [await admit(sut, await new_home(sut), child_ref=f"DRILL-{i}") for i in range(2)]
    for placement in placements:
        await arrive(sut, placement, days_ago=45)
    plans = [await issue_plan(sut, placements[0])]
    arrival = date.today() - timedelta(days=45)
    contract = (await sut.client.post("/v1/contracts", headers={**key(), **finance}, json={
        "la_code": "E10000018", "name": "Drill spot", "form": "spot",
        "start_date": str(arrival - timedelta(days=30))})).json()
    r = await sut.client.post(f"/v1/contracts/{contract['id']}/fee-schedules", headers={**key(), **finance}, json={
        "effective_from": str(arrival - timedelta(days=30)), "phase_1_weekly": {"amount": "5200.00", "currency": "GBP"},
        "phase_2_weekly": {"amount": "3789.00", "currency": "GBP"}})
    assert r.status_code == 201, r.text
    children = [p["referral_id"] for p in placements]

    async def billed():
        r = await sut.client.post("/v1/fee-periods/close", headers={**key(), **finance},
                                  json={"period_start": str(arrival.replace(day=1))})
        return r if r.status_code == 200 and r.json()["invoices"] and all(
            i["lines"] if "lines" in i else True for i in r.json()["invoices"]) else None
    closed = await wait_for(billed, timeout=30)
    invoices = [i["id"] for i in closed.json()["invoices"]]
    await wait_for(lambda: caught_up(base), timeout=30)
    before = await records(sut, children, plans, invoices)
    inboxes = {s: await inbox_count(sut.runtime(s)) for s in SERVICES}

    laps = {"running system": lap()}
    # `itp backup` as an operator runs it, configured from the environment
    env = {**os.environ, "ITP_TRANSPORT": "kafka", "ITP_DATABASE_URL_TEMPLATE": base["database_url_template"],
           "ITP_KAFKA_BOOTSTRAP_SERVERS": base["kafka_bootstrap_servers"],
           "ITP_KAFKA_TOPIC_PREFIX": base["kafka_topic_prefix"], "ITP_LOG_LEVEL": "WARNING"}
    out = tmp_path / "backup"
    done = subprocess.run([sys.executable, "-m", "itp.cli", "backup", str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["services"]) == set(SERVICES)
    groups = manifest["kafka"]["groups"]
    assert {base["kafka_topic_prefix"] + s for s in ("matching", "assessment", "billing")} <= set(groups)
    assert all(offset > 0 for topics in groups.values() for parts in topics.values() for offset in parts.values())
    assert {s: manifest["services"][s]["inbox_events"] for s in SERVICES} == inboxes
    again = subprocess.run([sys.executable, "-m", "itp.cli", "backup", str(out)], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 2 and "not empty" in again.stderr  # a backup is never written over

    laps["itp backup"] = lap()
    # the system goes down (its consumers leave their groups); a fresh database; the restore
    for service in SERVICES:
        await sut.runtime(service).consumer.stop()
    # the hardest case for "exactly once in effect": the dumps are ahead of the offsets by the whole history,
    # so every event is delivered again to the restored services and must change nothing
    for topics in groups.values():
        for parts in topics.values():
            for partition in parts:
                parts[partition] = 0
    (out / "manifest.json").write_text(json.dumps(manifest))
    fresh = unique("itp_restore_")
    await create_database(PG_ADMIN_URL, fresh)
    try:
        target = {**base, "database_url_template": pg_template(fresh)}
        restored = await restore(out, admin_url=PG_ADMIN_URL, **target)
        assert set(restored["restored"]) == set(SERVICES)
        with pytest.raises(BackupError, match="already has tables"):
            await restore(out, admin_url=PG_ADMIN_URL, **target)  # never over a database in use

        laps["restore"] = lap()
        back = await make_system(**target)
        await wait_for(lambda: caught_up(target), timeout=40)
        assert {s: await inbox_count(back.runtime(s)) for s in SERVICES} == inboxes  # nothing applied twice
        assert await records(back, children, plans, invoices) == before

        laps["restored system caught up"] = lap()
        # new events after the restore: handled once
        referral_id = await refer(back, child_ref="DRILL-AFTER")
        matching = back.runtime("matching")

        async def seen():
            return (await back.client.get(f"/v1/referrals/{referral_id}/matches", headers=back.hub())).status_code == 200
        await wait_for(seen, timeout=20)
        await wait_for(lambda: caught_up(target), timeout=20)
        assert await inbox_count(matching) == inboxes["matching"] + 1
        laps["new event"] = lap()
        print("restore drill: " + ", ".join(f"{k} {v:.1f} s" for k, v in laps.items()))
    finally:
        await drop_database(PG_ADMIN_URL, fresh)
