"""The periodic jobs run inside the services (`itp run`, `itp serve`): nobody has to call a sweep for an
undecided referral to expire, an unused reservation to lapse or a missed Phase 1 deadline to be notified."""
from __future__ import annotations

import asyncio
import logging
from datetime import date, timedelta

import pytest

from libs.common.scheduler import PeriodicJobs

from .support.assessment import admit, arrive, new_home
from .support import wait_for
from .support.referrals import create_referral as refer, events_of

embedded = pytest.mark.parametrize("system_overrides", ["inprocess-sqlite"], indirect=True)


@embedded
async def test_the_services_run_their_sweeps_by_themselves(make_system):
    sut = await make_system(scheduler_enabled=True, scheduler_interval_seconds=0.2)
    stale = await refer(sut, wanted_start_date=str(date.today() - timedelta(days=30)))
    home = await new_home(sut)
    placement = await admit(sut, home)
    await arrive(sut, placement, days_ago=12)  # the safety and risk plan (72 hours) is overdue

    async def expired():
        r = await sut.client.get(f"/v1/referrals/{stale['id']}", headers=sut.council())
        return r.json()["status"] == "expired"
    await wait_for(expired, timeout=10)

    async def notified():
        return "deadline.missed" in [e["type"] for e in await events_of(sut, "assessment")]
    await wait_for(notified, timeout=10)
    runs = {name: n for service in ("referral", "matching", "assessment")
            for name, n in sut.runtime(service).jobs.runs.items()}
    assert set(runs) == {"expire_referrals", "lapse_reservations", "deadline_notices", "purge_idempotency_keys"}
    assert all(n >= 1 for n in runs.values()), runs


async def test_a_failing_job_is_logged_and_tried_again_and_stop_ends_it(caplog):
    calls = []

    async def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("database away")
        return {"sent": ["a", "b"]}

    jobs = PeriodicJobs("test", 0.01, first_run_after=0)
    jobs.add("flaky", flaky)
    with pytest.raises(ValueError):
        jobs.add("flaky", flaky)
    with caplog.at_level(logging.INFO, logger="itp.scheduler"):
        jobs.start()
        tasks = list(jobs._tasks)
        await wait_for(lambda: jobs.runs["flaky"] >= 2, timeout=5)
        await jobs.stop()
    failures = [r for r in caplog.records if r.getMessage() == "job failed"]
    assert len(failures) == 2 and all(r.exc_info for r in failures)
    ran = [r for r in caplog.records if r.getMessage() == "job ran"]
    assert ran and ran[0].result == {"sent": 2}  # counts only: job results may name child records
    # stopped means stopped: the job's loop has ended (a finished task can never call the job again), and a
    # job set that keeps running meanwhile proves time passed in which the stopped job would have run
    assert tasks and all(task.done() for task in tasks)
    settled = len(calls)
    witness = PeriodicJobs("test", 0.01, first_run_after=0)
    witness.add("tick", lambda: asyncio.sleep(0))
    witness.start()
    await wait_for(lambda: witness.runs["tick"] >= 5, timeout=5)
    await witness.stop()
    assert len(calls) == settled
