"""What the fault tests (tests/faults/) share: the pathway driven in bursts through the gateway, the system's
state read back from every service's outbox and inbox, the clean run it is compared with (the same events
handled once each, in order, by fresh consumers on a fresh database), and a consumer service run as its own
process (which a test may stall after a handler's write, before the commit, and kill with SIGKILL).

Nothing here hard-codes an expected count: what every consumer must have handled is computed from what every
producer wrote (its outbox), and each read model is compared with the one a clean replay builds."""
from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import os
import signal
import sys
import uuid
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select

from itp.system import migrate_all
from libs.common.db import create_database, drop_database
from libs.common.events.envelope import EventEnvelope
from libs.common.runtime import ServiceRuntime
from libs.common.settings import Settings

from . import PG_ADMIN_URL, Receiver, pg_template, unique, wait_for
from .assessment import today, admit, arrive, issue_plan, key, new_home
from .matching import ranked, refer

SERVICES = ("referral", "matching", "assessment", "billing", "outcomes", "gateway")
FINANCE_SCOPES = ("billing:write", "invoices:read")
# consumer groups that notice a member killed outright in 3 s rather than 10 (the broker also holds a new
# group's first join for about this long, so every fault test starts 3 s sooner); and offsets committed every
# 250 ms as `make run-distributed` commits them, so a consumer killed or losing its partitions leaves up to
# that much handled but uncommitted, which the next owner must drop, not do twice
QUICK_GROUPS = {"kafka_session_timeout_ms": 3000, "kafka_commit_interval_ms": 250}
P1, P2 = 520000, 378900

# Read models built only from events (a consumer's own records, not what its API writes): a fault run must
# leave each equal to the clean run's. Columns that say *when* the consumer wrote (not what) are left out.
MIRRORS: dict[str, dict[str, set[str]]] = {
    "matching": {"referrals": {"status"}, "residents": set()},  # status: the hub's decisions move it in matching
    "assessment": {"children": set()},
    "billing": {"referrals": set(), "admissions": set(),
                "placements": {"billed_through"}},  # billed_through: set by a fee-period close (an HTTP write)
    "outcomes": {table: set() for table in ("referrals", "referral_needs", "homes", "decisions", "assessments",
                                             "placements", "fee_notices", "invoice_lines")},
}
WHEN_WRITTEN = {"updated_at"}


# --- the pathway in bursts ----------------------------------------------------------------------------------
def money(pence: int) -> dict:
    return {"amount": f"{pence / 100:.2f}", "currency": "GBP"}


async def contract(sut, la_code: str = "E10000018", since: date | None = None) -> dict:
    """A spot contract with a fee schedule, so that a fee-period close charges the council's placements."""
    finance = sut.hub("finance", scopes=FINANCE_SCOPES)
    start = since or today() - timedelta(days=400)
    r = await sut.client.post("/v1/contracts", headers={**key(), **finance},
                              json={"la_code": la_code, "name": "Spot", "form": "spot", "start_date": str(start)})
    assert r.status_code == 201, r.text
    r = await sut.client.post(f"/v1/contracts/{r.json()['id']}/fee-schedules", headers={**key(), **finance},
                              json={"effective_from": str(start), "phase_1_weekly": money(P1),
                                    "phase_2_weekly": money(P2)})
    assert r.status_code == 201, r.text
    return r.json()


async def close_period(sut, start: date) -> dict:
    r = await sut.client.post("/v1/fee-periods/close", headers={**key(), **sut.hub("finance", scopes=FINANCE_SCOPES)},
                              json={"period_start": str(start)})
    assert r.status_code == 200, r.text
    return r.json()


def month_start(day: date) -> date:
    return day.replace(day=1)


async def accept(sut, referral_id: str, home: dict) -> None:
    """The hub accepts a ranked referral into the home (answers once the decision is stored; the placement
    follows by event)."""
    async def decided():
        ranking = await ranked(sut, referral_id)
        r = await sut.client.post("/v1/admissions", headers={**key(), **sut.hub()},
                                  json={"referral_id": referral_id, "decision": "accept", "home_id": home["id"],
                                        "planned_start_date": str(today()),
                                        "assessment_id": ranking["assessment_id"]})
        if r.status_code == 422 and r.json()["errors"][0]["rule"] == "unknown_impact_risk_assessment":
            return None
        return r
    r = await wait_for(decided)
    assert r.status_code == 201, r.text


async def phase_2(sut, placement: dict, effective: date) -> None:
    await issue_plan(sut, placement)
    r = await sut.client.post(f"/v1/placements/{placement['id']}/phase-2", headers={**key(), **sut.hub()},
                              json={"effective_date": str(effective), "reason": "IPP agreed"})
    assert r.status_code == 200, r.text


class Pathway:
    """A small region driven through the gateway: a contract, homes, and children at every step, so that a
    burst can refer, accept, move phases and close a fee period without waiting for any event."""

    def __init__(self, sut):
        self.sut = sut
        self.homes: list[dict] = []
        self.arrived: list[dict] = []   # placements with the child in Phase 1 (arrived 40 days ago)
        self.pending: list[dict] = []   # placements accepted, the child not arrived yet
        self.ranked: list[str] = []     # referrals ranked, no decision yet
        self.referred: list[str] = []

    async def prepare(self, *, arrived: int = 1, pending: int = 1, ranked_: int = 1) -> "Pathway":
        sut = self.sut
        await contract(sut)
        for _ in range(arrived + pending + ranked_):
            self.homes.append(await new_home(sut))
        homes = iter(self.homes)
        for _ in range(arrived):
            placement = await admit(sut, next(homes))
            await arrive(sut, placement, days_ago=40)
            self.arrived.append(placement)
        for _ in range(pending):
            self.pending.append(await admit(sut, next(homes)))
        self.free = list(homes)
        for _ in range(ranked_):
            referral_id = await refer(sut)
            await ranked(sut, referral_id)
            self.ranked.append(referral_id)
        return self

    async def burst(self, referrals: int = 4) -> None:
        """Writes only (no wait on any event): new referrals, the ranked referrals accepted, the pending
        children arriving, the arrived ones moving to Phase 2, and the month of their arrival closed."""
        sut = self.sut
        for _ in range(referrals):
            self.referred.append(await refer(sut))
        for referral_id, home in zip(self.ranked, self.free):
            await accept(sut, referral_id, home)
        for placement in self.pending:
            await arrive(sut, placement, days_ago=1)
        for placement in self.arrived:
            await phase_2(sut, placement, today() - timedelta(days=12))
        await close_period(sut, month_start(today() - timedelta(days=40)))


async def webhook(sut, receiver: Receiver, la_code: str = "E10000018") -> dict:
    r = await sut.client.post("/v1/webhooks", json={"url": receiver.url, "event_types": ["*"]},
                              headers=sut.council(la_code))
    assert r.status_code == 201, r.text
    return r.json()


# --- the state every service holds ----------------------------------------------------------------------------
async def rows(runtime, stmt) -> list:
    async with runtime.db.session() as session:
        return (await session.execute(stmt)).mappings().all()


async def outboxes(sut) -> dict[str, list]:
    """Every service's outbox, in its order (seq)."""
    out = {}
    for service in SERVICES:
        rt = sut.runtime(service)
        outbox = rt.tables[0]
        out[service] = await rows(rt, select(outbox).order_by(outbox.c.seq))
    return out


async def inbox(sut, service: str) -> dict[str, object]:
    rt = sut.runtime(service)
    return {r["event_id"]: r["handled_at"] for r in await rows(rt, select(rt.tables[1]))}


def handled_types(sut, service: str) -> set[str]:
    return set(sut.runtime(service).consumer.handlers)


def expected_of(sut, written: dict[str, list]) -> dict[str, set[str]]:
    """What each consumer must have handled: every event any service wrote whose type it handles."""
    return {service: {r["event_id"] for rows_ in written.values() for r in rows_
                      if r["event_type"] in handled_types(sut, service)}
            for service in SERVICES if handled_types(sut, service)}


async def settled(sut, timeout: float = 60.0) -> dict[str, set[str]]:
    """Waits until every outbox is published and every consumer has handled what it must; answers that.
    The inboxes are read before the outboxes: an event handled by then has its follow-on events (committed
    with its inbox row) in the outboxes read after, so they are waited for too."""
    async def done():
        handled = {service: set(await inbox(sut, service)) for service in SERVICES if handled_types(sut, service)}
        written = await outboxes(sut)
        if any(r["published_at"] is None for rows_ in written.values() for r in rows_):
            return None
        wanted = expected_of(sut, written)
        return wanted if all(ids <= handled[service] for service, ids in wanted.items()) else None
    return await wait_for(done, timeout=timeout, interval=0.2)


async def assert_delivered_once_in_order(sut) -> dict[str, set[str]]:
    """Every event delivered to every consumer that handles it, none it should not have, none parked; and
    each consumer handled each aggregate's events (one topic, one key) in the order they were written."""
    wanted = await settled(sut)
    written = await outboxes(sut)
    for service, ids in wanted.items():
        handled = await inbox(sut, service)
        types = {r["event_id"]: r["event_type"] for rows_ in written.values() for r in rows_}
        assert set(handled) == ids, (service, "handled, not expected:", [types.get(i, i) for i in set(handled) - ids],
                                     "expected, not handled:", [types[i] for i in ids - set(handled)])
        rt = sut.runtime(service)
        parked = await rows(rt, select(rt.tables[2].c.event_type))
        assert not parked, (service, [p["event_type"] for p in parked])
        for producer, rows_ in written.items():
            per_key = defaultdict(list)
            for r in rows_:  # in the producer's order
                if r["event_id"] in ids:
                    per_key[(r["topic"], r["key"])].append(handled[r["event_id"]])
            for (topic, subject), times in per_key.items():
                assert times == sorted(times), f"{service} handled {producer}'s {topic} events of {subject} out of order"
    return wanted


async def envelopes(sut) -> list[EventEnvelope]:
    """Every event of every service, in the order they were written (each producer's own order kept)."""
    written = await outboxes(sut)
    every = [(r["created_at"], service, r["seq"], r["envelope"]) for service, rows_ in written.items() for r in rows_]
    return [EventEnvelope.model_validate_json(e) for *_, e in sorted(every, key=lambda x: x[:3])]


def normal(row: dict, leave_out: set[str]) -> tuple:
    return tuple(sorted((k, json.dumps(v, sort_keys=True, default=str)) for k, v in row.items()
                        if k not in WHEN_WRITTEN | leave_out))


async def mirror_state(runtime, service: str) -> dict[str, list[tuple]]:
    metadata = runtime.metadata
    out = {}
    for name, leave_out in MIRRORS[service].items():
        out[name] = sorted(normal(dict(r), leave_out) for r in await rows(runtime, select(metadata.tables[name])))
    return out


def handlers_of(service: str) -> dict:
    return importlib.import_module(f"services.{service}.handlers").HANDLERS


def metadata_of(service: str):
    return importlib.import_module(f"services.{service}.tables").metadata


@contextlib.asynccontextmanager
async def fresh_consumers(services=tuple(MIRRORS)):
    """Each service's consumer on a database of its own, fresh (migrated, empty): fed events by hand."""
    name = unique("itp_clean_")
    await create_database(PG_ADMIN_URL, name)
    overrides = dict(transport="inprocess", database_url_template=pg_template(name), scheduler_enabled=False,
                     consumer_retry_attempts=1)
    runtimes = {}
    try:
        await migrate_all(services, admin_url=PG_ADMIN_URL, **overrides)
        for service in services:
            runtimes[service] = ServiceRuntime(Settings.for_service(service, **overrides), metadata_of(service),
                                               handlers_of(service))
        yield runtimes
    finally:
        for runtime in runtimes.values():
            await runtime.db.dispose()
        await drop_database(PG_ADMIN_URL, name)


async def replay(runtimes: dict, events: list[EventEnvelope]) -> None:
    for envelope in events:
        for runtime in runtimes.values():
            if envelope.type in runtime.consumer.handlers:
                await runtime.consumer.handle(envelope)


async def assert_read_models_equal_clean_run(sut, order=None) -> dict[str, dict[str, int]]:
    """Each consumer's read models equal those a clean run builds: fresh consumers handling every event once,
    in the order written (or in `order(events)`, a perturbed order, for the reordering test). Answers the
    number of rows compared per table (a comparison of empty tables proves nothing)."""
    events = await envelopes(sut)
    async with fresh_consumers() as clean:
        await replay(clean, order(events) if order else events)
        sizes = {}
        for service, runtime in clean.items():
            want = await mirror_state(runtime, service)
            got = await mirror_state(sut.runtime(service), service)
            for table in want:
                diff = [dict(r) for r in set(got[table]) ^ set(want[table])]
                assert got[table] == want[table], f"{service}.{table} differs from the clean run's: {diff}"
            sizes[service] = {table: len(v) for table, v in want.items()}
    return sizes


async def assert_no_doubles(sut, receiver: Receiver | None = None) -> None:
    """No placement, charge, webhook delivery or measure twice: one placement per accepted admission, one
    charge line per placement, period and stream, one delivery per endpoint and event (and each received
    once), one measurement per placement and time point."""
    from services.assessment.tables import placements
    from services.billing.tables import invoice_lines, invoices
    from services.gateway.tables import webhook_deliveries
    from services.outcomes.tables import measurements

    per_admission = await rows(sut.runtime("assessment"), select(placements.c.admission_id, func.count())
                               .group_by(placements.c.admission_id).having(func.count() > 1))
    assert not per_admission, per_admission
    charges = await rows(sut.runtime("billing"), select(
        invoice_lines.c.placement_id, invoices.c.period_start, invoice_lines.c.stream, func.count())
        .join(invoices, invoices.c.id == invoice_lines.c.invoice_id).where(invoice_lines.c.kind == "charge")
        .group_by(invoice_lines.c.placement_id, invoices.c.period_start, invoice_lines.c.stream)
        .having(func.count() > 1))
    assert not charges, charges
    deliveries = await rows(sut.runtime("gateway"), select(
        webhook_deliveries.c.endpoint_id, webhook_deliveries.c.event_id, func.count())
        .group_by(webhook_deliveries.c.endpoint_id, webhook_deliveries.c.event_id).having(func.count() > 1))
    assert not deliveries, deliveries
    measured = await rows(sut.runtime("outcomes"), select(
        measurements.c.placement_id, measurements.c.timepoint, func.count())
        .group_by(measurements.c.placement_id, measurements.c.timepoint).having(func.count() > 1))
    assert not measured, measured
    # an event a consumer emitted while handling another is emitted once, however often that one was delivered
    for service, rows_ in (await outboxes(sut)).items():
        caused = Counter()
        for r in rows_:
            envelope = json.loads(r["envelope"])
            if envelope.get("causation_id"):
                caused[(envelope["causation_id"], r["event_type"], r["key"])] += 1
        twice = [k for k, n in caused.items() if n > 1]
        assert not twice, (service, twice)
    if receiver is not None:
        ids = [r.headers["webhook-id"] for r in receiver.successes()]
        assert len(ids) == len(set(ids)), "a webhook delivered twice"


async def council_events(sut, la_code: str = "E10000018") -> set[str]:
    return {str(e.id) for e in await envelopes(sut) if e.la_code == la_code}


async def webhooks_delivered(sut, receiver: Receiver, la_code: str = "E10000018", timeout: float = 30.0) -> set[str]:
    """Waits until the receiver has had every event about the council's children (once each)."""
    want = await council_events(sut, la_code)

    def got():
        return {r.event["event_id"] for r in receiver.successes()} >= want
    await wait_for(got, timeout=timeout, interval=0.1)
    return want


# --- a consumer service as its own process ---------------------------------------------------------------------
class ConsumerProcess:
    """`python -m tests.support.consumer_process`: the consumers of `services` (no relay, no HTTP) in a process
    of their own, in the same consumer groups as the system's. Each handler reports on stdout after its
    writes and before the consumer commits; `stall(service, event_type)` makes the next such event stop
    there for good (until the process is killed)."""

    def __init__(self, overrides: dict, services: tuple[str, ...], workdir: Path):
        self.overrides = overrides
        self.services = services
        self.arm_file = workdir / f"arm-{uuid.uuid4().hex[:8]}.json"
        self.proc: asyncio.subprocess.Process | None = None
        self.lines: list[dict] = []
        self._reader: asyncio.Task | None = None

    async def start(self) -> "ConsumerProcess":
        config = {"overrides": self.overrides, "services": list(self.services), "arm_file": str(self.arm_file)}
        env = {**os.environ, "ITP_FAULTS_CONSUMER": json.dumps(config, default=str), "ITP_LOG_LEVEL": "WARNING"}
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.support.consumer_process", env=env, stdout=asyncio.subprocess.PIPE,
            cwd=str(Path(__file__).resolve().parents[2]))
        self._reader = asyncio.create_task(self._read())
        await wait_for(lambda: any(line.get("ready") for line in self.lines) or self.proc.returncode is not None,
                       timeout=60)
        assert self.proc.returncode is None, f"the consumer process exited with {self.proc.returncode}"
        return self

    async def _read(self) -> None:
        assert self.proc and self.proc.stdout
        async for raw in self.proc.stdout:
            with contextlib.suppress(ValueError):
                self.lines.append(json.loads(raw))

    def stall(self, rules: dict[str, list[str]]) -> None:
        self.arm_file.write_text(json.dumps(rules))

    def ran(self, service: str | None = None) -> list[dict]:
        return [line for line in self.lines if "event_id" in line and (service is None or line["service"] == service)]

    def stalled(self) -> list[dict]:
        return [line for line in self.lines if line.get("stalled")]

    async def kill(self) -> None:
        """SIGKILL: no shutdown, no group leave, no commit."""
        if self.proc and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
            await self.proc.wait()
        if self._reader:
            await self._reader

    async def stop(self) -> None:
        if self.proc and self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 15)
            except asyncio.TimeoutError:
                await self.kill()
        if self._reader:
            await self._reader


@contextlib.asynccontextmanager
async def consumer_process(overrides: dict, services: tuple[str, ...], workdir: Path):
    proc = ConsumerProcess(overrides, services, workdir)
    try:
        yield await proc.start()
    finally:
        await proc.stop()


# --- the broker's view: has every consumer group read to the end of its topics? ------------------------------
async def lag(sut) -> dict[str, int]:
    """Messages each service's consumer group has not committed yet, over the topics it reads (Kafka)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient

    transport = sut.runtime("gateway").transport
    admin = AIOKafkaAdminClient(bootstrap_servers=transport.bootstrap_servers)
    reader = AIOKafkaConsumer(bootstrap_servers=transport.bootstrap_servers, group_id=None)
    await admin.start()
    await reader.start()
    try:
        out = {}
        for service in SERVICES:
            topics = [transport._t(t) for t in sut.runtime(service).consumer.topics]
            if not topics:
                continue
            await reader._client.force_metadata_update()
            tps = [TopicPartition(t, p) for t in topics for p in (reader.partitions_for_topic(t) or ())]
            ends = await reader.end_offsets(tps)
            committed = await admin.list_consumer_group_offsets(transport.prefix + service, partitions=tps)
            out[service] = sum(max(0, ends[tp] - (committed[tp].offset if tp in committed and committed[tp].offset >= 0
                                                  else 0)) for tp in tps)
        return out
    finally:
        await reader.stop()
        await admin.close()


async def caught_up(sut, timeout: float = 60.0) -> None:
    async def none_behind():
        return not any((await lag(sut)).values())
    await wait_for(none_behind, timeout=timeout, interval=0.3)
