"""Background tasks of a process (relay, consumers, webhook worker, periodic jobs) end one way."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

log = logging.getLogger("itp.tasks")


async def cancel_and_wait(task: asyncio.Task | None) -> None:
    """Cancel a background task and wait for it to finish. What it raised on the way out was already
    logged by the task itself; stopping never fails because of it."""
    if task is None:
        return
    task.cancel()
    try:
        await task
    except (asyncio.CancelledError, Exception):  # noqa: BLE001
        pass


async def within(aw: Awaitable, seconds: float, what: str) -> bool:
    """Wait for a shut-down step at most `seconds`; a step that does not finish in time (a driver waiting on a
    peer that is gone) is cancelled and left behind with a warning, so stopping a process never hangs.
    Answers whether the step finished."""
    task = asyncio.ensure_future(aw)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if done:
        try:
            task.result()
        except (asyncio.CancelledError, Exception):  # noqa: BLE001 - stopping never fails because of it
            pass
        return True
    task.cancel()
    log.warning("shut-down step did not finish in time; left behind", extra={"step": what, "seconds": seconds})
    return False
