"""Background tasks of a process (relay, consumers, webhook worker, periodic jobs) end one way."""
from __future__ import annotations

import asyncio


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
