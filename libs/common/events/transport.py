"""Transports: the same publish/subscribe semantics over Kafka or an in-process log.

Semantics both keep: records of one topic are delivered in order per key; each consumer group
has a committed position, advanced only after the handler returned (so a crash mid-handler means
redelivery, never loss); a group that subscribes later starts from the earliest record.
"""
from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Protocol

from ..tasks import cancel_and_wait

log = logging.getLogger("itp.transport")


@dataclass
class Record:
    topic: str
    key: str
    value: bytes
    headers: dict[str, str] = field(default_factory=dict)
    partition: int = 0
    offset: int = 0


RecordHandler = Callable[[Record], Awaitable[None]]


class Subscription(Protocol):
    async def stop(self) -> None: ...


class Transport(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def ping(self) -> None: ...
    async def ensure_topics(self, topics: list[str]) -> None: ...
    async def publish(self, topic: str, key: str, value: bytes, headers: dict[str, str] | None = None) -> None: ...
    async def subscribe(self, group: str, topics: list[str], handler: RecordHandler) -> Subscription: ...
    async def read_all(self, topic: str, timeout: float = 5.0) -> list[Record]: ...


class _TaskSubscription:
    def __init__(self, task: asyncio.Task):
        self.task = task

    async def stop(self) -> None:
        await cancel_and_wait(self.task)


class InProcessBus:
    """An in-memory, append-only log per topic with committed positions per consumer group."""

    def __init__(self) -> None:
        self._logs: dict[str, list[Record]] = defaultdict(list)
        self._positions: dict[tuple[str, str], int] = defaultdict(int)
        self._version = 0
        self._cond: asyncio.Condition | None = None

    def _condition(self) -> asyncio.Condition:
        if self._cond is None:
            self._cond = asyncio.Condition()
        return self._cond

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def ping(self) -> None:
        return None

    async def ensure_topics(self, topics: list[str]) -> None:
        for topic in topics:
            self._logs.setdefault(topic, [])

    async def publish(self, topic: str, key: str, value: bytes, headers: dict[str, str] | None = None) -> None:
        records = self._logs[topic]
        records.append(Record(topic, key, value, dict(headers or {}), 0, len(records)))
        cond = self._condition()
        async with cond:
            self._version += 1
            cond.notify_all()

    async def subscribe(self, group: str, topics: list[str], handler: RecordHandler) -> Subscription:
        return _TaskSubscription(asyncio.create_task(self._consume(group, topics, handler), name=f"bus:{group}"))

    async def _consume(self, group: str, topics: list[str], handler: RecordHandler) -> None:
        cond = self._condition()
        while True:
            seen = self._version
            progressed = False
            for topic in topics:
                records = self._logs[topic]
                while self._positions[(group, topic)] < len(records):
                    await handler(records[self._positions[(group, topic)]])
                    self._positions[(group, topic)] += 1  # commit only after the handler returned
                    progressed = True
            if not progressed:
                async with cond:
                    await cond.wait_for(lambda: self._version != seen)

    async def read_all(self, topic: str, timeout: float = 0.0) -> list[Record]:
        return list(self._logs.get(topic, []))
