"""Kafka transport (aiokafka): one consumer group per service, offsets committed only after
the handler's database transaction has committed."""
from __future__ import annotations

import asyncio
import contextlib
import logging

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import CommitFailedError, IllegalStateError, TopicAlreadyExistsError

from ..tasks import cancel_and_wait
from .transport import BatchHandler, Message, Prepare, PublishIncomplete, Record, RecordHandler, _TaskSubscription

log = logging.getLogger("itp.kafka")


class KafkaTransport:
    def __init__(self, bootstrap_servers: str, *, client_id: str = "itp", enable_idempotence: bool = True,
                 partitions: int = 3, topic_prefix: str = "", fetch_max_wait_ms: int = 500,
                 session_timeout_ms: int = 10000, idle_fetch_max_wait_ms: int = 0, idle_after_ms: int = 2000,
                 commit_interval_ms: int = 0):
        self.bootstrap_servers = bootstrap_servers
        self.client_id = client_id
        self.enable_idempotence = enable_idempotence
        self.partitions = partitions
        self.prefix = topic_prefix
        self.fetch_max_wait_ms = fetch_max_wait_ms
        self.session_timeout_ms = session_timeout_ms
        self.idle_fetch_max_wait_ms = idle_fetch_max_wait_ms
        self.idle_after_ms = idle_after_ms
        self.commit_interval_ms = commit_interval_ms
        self._producer: AIOKafkaProducer | None = None
        self._known_topics: set[str] = set()

    def _t(self, topic: str) -> str:
        return self.prefix + topic

    async def start(self) -> None:
        if self._producer is None:
            producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap_servers, client_id=self.client_id,
                                        enable_idempotence=self.enable_idempotence, acks="all", linger_ms=0)
            await producer.start()
            self._producer = producer

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def ping(self) -> None:
        await self.start()
        assert self._producer is not None
        await asyncio.wait_for(self._producer.client.fetch_all_metadata(), timeout=3)

    async def ensure_topics(self, topics: list[str]) -> None:
        wanted = [self._t(t) for t in topics if self._t(t) not in self._known_topics]
        if not wanted:
            return
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap_servers, client_id=self.client_id)
        await admin.start()
        try:
            existing = set(await admin.list_topics())
            missing = [t for t in wanted if t not in existing]
            if missing:
                try:
                    await admin.create_topics([NewTopic(t, self.partitions, 1) for t in missing])
                except TopicAlreadyExistsError:
                    pass
            self._known_topics.update(wanted)
        finally:
            await admin.close()

    async def publish(self, topic: str, key: str, value: bytes, headers: dict[str, str] | None = None) -> None:
        await self.start()
        assert self._producer is not None
        await self._producer.send_and_wait(self._t(topic), value, key=key.encode(),
                                           headers=[(k, v.encode()) for k, v in (headers or {}).items()])

    async def publish_many(self, messages: list[Message]) -> int:
        """Send every message at once (the producer batches them per partition, one request in flight per
        partition, so order per key holds), then wait for the acknowledgements. Answers how many were acked;
        raises PublishIncomplete naming the acknowledged prefix when one failed."""
        await self.start()
        assert self._producer is not None
        futures: list[asyncio.Future] = []
        failure: BaseException | None = None
        for topic, key, value, headers in messages:
            try:
                futures.append(await self._producer.send(
                    self._t(topic), value, key=key.encode(),
                    headers=[(k, v.encode()) for k, v in (headers or {}).items()]))
            except Exception as exc:  # noqa: BLE001 - reported below with what was acknowledged before it
                failure = exc
                break
        results = await asyncio.gather(*futures, return_exceptions=True)
        acked = 0
        for result in results:
            if isinstance(result, BaseException):
                failure = result
                break
            acked += 1
        if failure is not None:
            raise PublishIncomplete(acked, failure)
        return acked

    async def subscribe(self, group: str, topics: list[str], handler: RecordHandler, *,
                        batch_handler: BatchHandler | None = None, max_batch: int = 500,
                        prepare: Prepare | None = None) -> _TaskSubscription:
        await self.ensure_topics(topics)
        consumer = AIOKafkaConsumer(*[self._t(t) for t in topics], bootstrap_servers=self.bootstrap_servers,
                                    group_id=self.prefix + group, client_id=f"{self.client_id}-{group}",
                                    enable_auto_commit=False, auto_offset_reset="earliest", fetch_max_wait_ms=self.fetch_max_wait_ms,
                                    session_timeout_ms=self.session_timeout_ms,
                                    heartbeat_interval_ms=max(100, self.session_timeout_ms // 3))
        await consumer.start()
        pacer = FetchPacer(consumer, self.fetch_max_wait_ms, self.idle_fetch_max_wait_ms, self.idle_after_ms)
        if batch_handler is None:
            task = self._consume(consumer, handler, pacer)
        else:
            task = self._consume_batches(consumer, batch_handler, max(1, max_batch), pacer, prepare)
        return _TaskSubscription(asyncio.create_task(task, name=f"kafka:{group}"))

    def _record(self, m) -> Record:
        return Record(topic=m.topic[len(self.prefix):], key=(m.key or b"").decode(), value=m.value,
                      headers={k: v.decode() for k, v in (m.headers or ())}, partition=m.partition, offset=m.offset)

    async def _consume(self, consumer: AIOKafkaConsumer, handler: RecordHandler, pacer: "FetchPacer") -> None:
        # getone() hands over a record as soon as it is fetched; getmany(timeout_ms=...) measured ~25 ms
        # slower per record on a quiet topic (bench/bench_events.py).
        pacer.start()
        try:
            while True:
                m = await consumer.getone()
                pacer.record_arrived()
                await handler(self._record(m))
                await self._commit(consumer, {TopicPartition(m.topic, m.partition): m.offset + 1})
        finally:
            pacer.stop()
            await consumer.stop()

    async def _consume_batches(self, consumer: AIOKafkaConsumer, handler: BatchHandler, max_batch: int,
                               pacer: "FetchPacer", prepare: Prepare | None = None) -> None:
        # the first record as soon as it arrives (getone: no added latency on a quiet topic), then whatever the
        # fetcher already holds (getmany without waiting): a backlog is handled, and committed, a batch at a time
        #
        # With commit_interval_ms the offsets of handled batches are committed at most that often (and when the
        # topic goes quiet, and at stop) rather than after every batch: under load a consumer then sends the
        # broker one OffsetCommit per interval instead of one per event. What that risks is only redelivery:
        # a consumer that dies, or loses a partition in a rebalance, before committing has its last records
        # handled again by the partition's next owner, and its inbox drops them (the handlers' own transaction
        # recorded them), as after any crash between a handler's commit and the offset commit.
        #
        # With `prepare` (decoding: CPU, yielding to the loop every few records), a backlog is pipelined: while one
        # batch's handler waits on its database, the next batch is fetched and prepared. Handlers still run one
        # batch at a time, in order, and a batch's offsets are pending only once its handler returned.
        loop = asyncio.get_running_loop()
        interval = self.commit_interval_ms / 1000
        pending: dict[TopicPartition, int] = {}
        last_commit = loop.time()
        inflight: tuple[asyncio.Task, list] | None = None

        async def settle() -> None:
            """Wait for the batch in flight to be handled; its offsets then pend (and are committed when due)."""
            nonlocal inflight, pending, last_commit
            if inflight is None:
                return
            task, done = inflight
            inflight = None
            await task
            for m in done:
                tp = TopicPartition(m.topic, m.partition)
                pending[tp] = max(pending.get(tp, 0), m.offset + 1)
            if interval <= 0 or loop.time() - last_commit >= interval:
                await self._commit(consumer, pending)
                pending, last_commit = {}, loop.time()

        pacer.start()
        try:
            while True:
                if inflight is not None:  # a batch in flight: take what else is waiting, else wait for that batch
                    more = await consumer.getmany(timeout_ms=0, max_records=max_batch)
                    messages = [m for part in more.values() for m in part]
                    if not messages:
                        await settle()
                        continue
                else:
                    if pending:
                        try:  # the topic went quiet: commit what is done rather than hold it (asyncio.timeout, not
                            # wait_for: on Python 3.11 wait_for can drop a stop's cancel arriving with a record)
                            async with asyncio.timeout(max(0.0, last_commit + interval - loop.time())):
                                first = await consumer.getone()
                        except TimeoutError:
                            await self._commit(consumer, pending)
                            pending, last_commit = {}, loop.time()
                            continue
                    else:
                        first = await consumer.getone()
                    messages = [first]
                    if max_batch > 1:
                        more = await consumer.getmany(timeout_ms=0, max_records=max_batch - 1)
                        for part in more.values():
                            messages.extend(part)
                pacer.record_arrived()
                records = [self._record(m) for m in messages]
                batch = records if prepare is None else await prepare(records)
                await settle()
                inflight = (asyncio.create_task(handler(batch)), messages)
                if prepare is None:
                    await settle()
                else:
                    await asyncio.sleep(0)  # the handler starts (and is soon waiting on its database)
        finally:
            pacer.stop()
            if inflight is not None:  # stopped mid-batch: it is rolled back, and handled again by the next owner
                await cancel_and_wait(inflight[0])
            if pending:
                with contextlib.suppress(Exception):  # stopping: the next owner handles them again otherwise
                    await asyncio.wait_for(self._commit(consumer, pending), 5)
            await consumer.stop()

    @staticmethod
    async def _commit(consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]) -> None:
        """Commit what the handler finished. A rebalance while it ran (a replica joining or leaving the group)
        may have given a partition to another member, and the group refuses a commit from the old generation:
        those records are then handled again by the partition's owner (its inbox drops what was done here). A
        refused commit never ends the consumer: it carries on with the partitions it is given now."""
        owned = consumer.assignment()
        mine = {tp: offset for tp, offset in offsets.items() if tp in owned}
        try:
            if mine:
                await consumer.commit(mine)
            if len(mine) == len(offsets):
                return
        except (CommitFailedError, IllegalStateError):
            pass
        log.warning("offset commit refused after a rebalance; the partition's owner handles the records again",
                    extra={"partitions": len(offsets)})

    async def read_all(self, topic: str, timeout: float = 5.0) -> list[Record]:
        """Read a topic from the beginning without joining a group (operators' and tests' view)."""
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap_servers, enable_auto_commit=False,
                                    auto_offset_reset="earliest", group_id=None)
        await consumer.start()
        try:
            name = self._t(topic)
            parts = consumer.partitions_for_topic(name)
            if not parts:
                await consumer._client.force_metadata_update()
                parts = consumer.partitions_for_topic(name) or set()
            tps = [TopicPartition(name, p) for p in parts]
            if not tps:
                return []
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            ends = await consumer.end_offsets(tps)
            out: list[Record] = []
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout

            async def behind() -> bool:
                for tp in tps:
                    if await consumer.position(tp) < ends[tp]:
                        return True
                return False

            while loop.time() < deadline and await behind():
                batches = await consumer.getmany(timeout_ms=200)
                for msgs in batches.values():
                    for m in msgs:
                        out.append(Record(topic, (m.key or b"").decode(), m.value,
                                          {k: v.decode() for k, v in (m.headers or ())}, m.partition, m.offset))
            return out
        finally:
            await consumer.stop()


class FetchPacer:
    """How long the consumer's next fetch may wait at the broker. Apache Kafka answers a fetch as soon as a record
    arrives, so one long wait serves both a quiet and a busy topic. Tansu (the test and `make run-distributed`
    broker) holds every fetch for its whole wait, so a consumer there polls every `busy_ms` (10 ms) to pass events
    on quickly, and a dozen idle consumers cost it and the broker most of a core. With `idle_ms` set, a consumer
    that has seen no record for `idle_after_ms` waits `idle_ms` per fetch instead, and the first record back
    returns it to `busy_ms`: the first event after a quiet spell arrives up to `idle_ms` later, the rest as before.

    aiokafka reads the wait from its fetcher for each fetch it builds; it has no public setter, so this sets that
    attribute (`_fetch_max_wait_ms`, aiokafka 0.14) and does nothing when it is absent."""

    def __init__(self, consumer: AIOKafkaConsumer, busy_ms: int, idle_ms: int = 0, idle_after_ms: int = 2000):
        self.consumer = consumer
        self.busy_ms = busy_ms
        self.idle_ms = idle_ms
        self.idle_after = idle_after_ms / 1000
        self.idle = False
        self._last = 0.0
        self._task: asyncio.Task | None = None

    @property
    def enabled(self) -> bool:
        return self.idle_ms > self.busy_ms

    def _set(self, wait_ms: int) -> None:
        fetcher = getattr(self.consumer, "_fetcher", None)
        if fetcher is not None and hasattr(fetcher, "_fetch_max_wait_ms"):
            fetcher._fetch_max_wait_ms = wait_ms

    def start(self) -> None:
        if self.enabled and self._task is None:
            self._last = asyncio.get_running_loop().time()
            self._task = asyncio.create_task(self._watch(), name="kafka:fetch-pacer")

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def record_arrived(self) -> None:
        if not self.enabled:
            return
        self._last = asyncio.get_running_loop().time()
        if self.idle:
            self.idle = False
            self._set(self.busy_ms)

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.idle_after / 2)
            if not self.idle and loop.time() - self._last >= self.idle_after:
                self.idle = True
                self._set(self.idle_ms)
