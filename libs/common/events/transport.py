"""Transports: the same publish/subscribe semantics over Kafka or an in-process log.

Semantics both keep: records of one topic are delivered in order per key; each consumer group
has a committed position, advanced only after the handler returned (so a crash mid-handler means
redelivery, never loss); a group that subscribes later starts from the earliest record.

Batches: a subscriber may pass `batch_handler`; it then receives what is already waiting (up to `max_batch`
records, in order per partition, never waiting for more) in one call, and the position advances past the
whole batch only after that call returned. With `prepare` as well, the handler receives prepare(records) (the
decoding, which the Kafka transport does for the next batch while the one before is being handled). Publishers may hand `publish_many` a batch of messages: they are
sent together and it answers how many, from the first, the broker acknowledged.
"""
from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Protocol

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
BatchHandler = Callable[[list[Record]], Awaitable[None]]
# what a batch handler is given instead of the records when a subscriber passes `prepare` (decoding: CPU only, no
# I/O, yielding to the event loop now and then); the Kafka transport prepares the next batch while the one before
# is being handled, which then goes on whenever its database answers
Prepare = Callable[[list[Record]], Awaitable[Any]]
# (topic, key, value, headers): one message for publish_many
Message = tuple[str, str, bytes, "dict[str, str] | None"]


class PublishIncomplete(Exception):
    """publish_many could not have every message acknowledged: the first `acked` were; `cause` stopped the rest
    (the ones after it may or may not have reached the broker: they are published again, and deduplicated)."""

    def __init__(self, acked: int, cause: BaseException):
        super().__init__(f"{acked} acknowledged before {type(cause).__name__}")
        self.acked = acked
        self.cause = cause


class Subscription(Protocol):
    async def stop(self) -> None: ...


class Transport(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def ping(self) -> None: ...
    async def ensure_topics(self, topics: list[str]) -> None: ...
    async def publish(self, topic: str, key: str, value: bytes, headers: dict[str, str] | None = None) -> None: ...
    async def publish_many(self, messages: list[Message]) -> int: ...
    async def subscribe(self, group: str, topics: list[str], handler: RecordHandler, *,
                        batch_handler: BatchHandler | None = None, max_batch: int = 500,
                        prepare: Prepare | None = None) -> Subscription: ...
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

    async def publish_many(self, messages: list[Message]) -> int:
        for topic, key, value, headers in messages:
            await self.publish(topic, key, value, headers)
        return len(messages)

    async def subscribe(self, group: str, topics: list[str], handler: RecordHandler, *,
                        batch_handler: BatchHandler | None = None, max_batch: int = 500,
                        prepare: Prepare | None = None) -> Subscription:
        return _TaskSubscription(asyncio.create_task(
            self._consume(group, topics, handler, batch_handler, max(1, max_batch), prepare), name=f"bus:{group}"))

    async def _consume(self, group: str, topics: list[str], handler: RecordHandler,
                       batch_handler: BatchHandler | None = None, max_batch: int = 1,
                       prepare: Prepare | None = None) -> None:
        cond = self._condition()
        while True:
            seen = self._version
            progressed = False
            for topic in topics:
                records = self._logs[topic]
                while self._positions[(group, topic)] < len(records):
                    position = self._positions[(group, topic)]
                    if batch_handler is None:
                        await handler(records[position])
                        self._positions[(group, topic)] += 1  # commit only after the handler returned
                    else:
                        batch = records[position:position + max_batch]
                        await batch_handler(batch if prepare is None else await prepare(batch))
                        self._positions[(group, topic)] += len(batch)  # past the batch once it was handled
                    progressed = True
            if not progressed:
                async with cond:
                    await cond.wait_for(lambda: self._version != seen)

    async def read_all(self, topic: str, timeout: float = 0.0) -> list[Record]:
        return list(self._logs.get(topic, []))

    def progress(self) -> tuple[int, int]:
        """(records published, records a group reading their topic has not handled yet). The log is memory: what is
        published and not handled when the process stops is gone, so a caller about to stop it waits for 0."""
        published = sum(len(records) for records in self._logs.values())
        return published, sum(len(self._logs[topic]) - at for (_group, topic), at in self._positions.items())
