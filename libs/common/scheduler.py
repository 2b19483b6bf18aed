"""Periodic jobs inside a service process: a referral's expiry, a reservation's lapse, a plan's deadline.

Each job is safe to run in several replicas at once (each guards its own changes: a conditional update
or a unique notice row committed with its outbox event), so nothing here elects a leader; a replica runs
each job every `scheduler_interval_seconds`, the first run a short, jittered while after start so that
replicas started together do not all sweep in the same instant. A failing run is logged and tried again
at the next interval; it never stops the service.
"""
from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

from .tasks import cancel_and_wait

log = logging.getLogger("itp.scheduler")

Job = Callable[[], Awaitable[Any]]


class PeriodicJobs:
    def __init__(self, service: str, interval_seconds: float, *, first_run_after: float | None = None):
        self.service = service
        self.interval = interval_seconds
        self.first_run_after = min(5.0, interval_seconds) if first_run_after is None else first_run_after
        self.jobs: dict[str, Job] = {}
        self.runs: dict[str, int] = {}
        self._tasks: list[asyncio.Task] = []

    def add(self, name: str, job: Job) -> None:
        if name in self.jobs:
            raise ValueError(f"job {name!r} is already scheduled in {self.service}")
        self.jobs[name] = job
        self.runs[name] = 0

    def start(self) -> None:
        for name, job in self.jobs.items():
            self._tasks.append(asyncio.create_task(self._loop(name, job), name=f"itp-job-{self.service}-{name}"))

    async def stop(self) -> None:
        for task in self._tasks:
            await cancel_and_wait(task)
        self._tasks.clear()

    async def _loop(self, name: str, job: Job) -> None:
        await asyncio.sleep(self.first_run_after * (0.5 + random.random() / 2))
        while True:
            started = time.perf_counter()
            try:
                result = await job()
                self.runs[name] += 1
                log.info("job ran", extra={"job": name, "result": _summary(result),
                                           "duration_ms": round((time.perf_counter() - started) * 1000, 2)})
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - logged; the next interval tries again
                log.exception("job failed", extra={"job": name})
            await asyncio.sleep(self.interval * (0.9 + random.random() / 5))


def _summary(result: Any) -> Any:
    """Counts, not ids: a job's result may name child records, which stay out of the logs."""
    if isinstance(result, dict):
        return {k: len(v) if isinstance(v, (list, tuple, set)) else v for k, v in result.items()}
    if isinstance(result, (list, tuple, set)):
        return len(result)
    return result
