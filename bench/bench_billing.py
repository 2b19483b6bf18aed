"""`make bench-billing`: close a calendar month for N placements (12,000 by default) on Postgres, and, in the
same run and database, a plain bulk insert of the same number of invoice lines (the floor any close pays to
write its lines). The close reads the placements, contracts and schedules, works out every line with the
cumulative rounding, takes gapless numbers under the counters' row locks, writes the invoices and lines,
marks the placements billed and emits invoice.issued and fee_period.closed to the outbox, in one transaction.
Not a test: it prints figures. Target: under 3 s and within 3x of the bulk insert.

Then the read finance and councils make before and after a close, `GET /v1/fee-periods` (service.periods,
as the route calls it), p50/p99 of R reads (R = min(N, 200), at least 20) for finance and for a council, each
against baselines in the same run and database: a one-row read by primary key (the floor of any read), and for
a council the former read (every period, then every invoice of the council to keep the periods holding one)."""
from __future__ import annotations

import asyncio
import sys
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import statistics  # noqa: E402

from sqlalchemy import func, select, text  # noqa: E402

from itp.system import migrate_all, settings_for  # noqa: E402
from itp.testing import PG_ADMIN_URL, pg_template  # noqa: E402
from libs.common.auth import Principal  # noqa: E402
from libs.common.db import create_database, drop_database  # noqa: E402
from libs.common.runtime import ServiceRuntime  # noqa: E402
from services.billing import repository as repo  # noqa: E402
from services.billing import service  # noqa: E402
from services.billing.tables import (contracts, fee_periods, fee_schedules, invoice_lines, metadata,  # noqa: E402
                                     placements, referrals, schemes)

N = int(sys.argv[1]) if len(sys.argv) > 1 else 12_000
COUNCILS = 153
NOW = datetime.now(timezone.utc)
FINANCE = Principal(client_id="bench-finance", role="finance")


def month_before(d: date) -> date:
    return (d.replace(day=1) - timedelta(days=1)).replace(day=1)


async def seed(runtime: ServiceRuntime, month: date) -> None:
    """N placements spread over 153 councils (a spot contract and schedule each), all present the whole
    month; a quarter move to Phase 2 inside it (two lines); the month before counts as closed."""
    month_end = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    las = [f"E{10000000 + i:08d}" for i in range(COUNCILS)]
    crows, srows, prows, rrows = [], [], [], []
    for la in las:
        cid = str(uuid.uuid4())
        crows.append(dict(id=cid, la_code=la, name=f"Spot {la}", form="spot", start_date=date(2020, 1, 1),
                          end_date=None, scheme="calendar_month", charge_arrival_day=True, charge_leaving_day=False,
                          block_beds=0, block_weekly_pence=0, open_book=None, version=1, created_at=NOW))
        srows.append(dict(id=str(uuid.uuid4()), contract_id=cid, effective_from=date(2020, 1, 1), effective_to=None,
                          phase_1_weekly_pence=520000, phase_2_weekly_pence=378900, blended_weekly_pence=None,
                          created_at=NOW))
    for i in range(N):
        la, pid, rid = las[i % COUNCILS], str(uuid.uuid4()), str(uuid.uuid4())
        arrival = month - timedelta(days=10 + i % 300)
        transitions = [[arrival.isoformat(), "phase_1"]]
        if i % 4 == 0:
            transitions.append([(month + timedelta(days=i % 28)).isoformat(), "phase_2"])
        elif (month - arrival).days > 28:
            transitions.append([(arrival + timedelta(days=28)).isoformat(), "phase_2"])
        rrows.append(dict(referral_id=rid, la_code=la, child_ref=f"{la}-{i}"))
        prows.append(dict(id=pid, referral_id=rid, la_code=la, home_id=str(uuid.uuid4()), fee_basis=None,
                          arrival_date=arrival, end_date=None, transitions=transitions, phase_ends_on=None,
                          billed_through=month - timedelta(days=1), updated_at=NOW))
    async with runtime.db.session() as session, session.begin():
        await session.execute(contracts.insert(), crows)
        await session.execute(fee_schedules.insert(), srows)
        for rows, table in ((rrows, referrals), (prows, placements)):
            for k in range(0, len(rows), 2000):
                await session.execute(table.insert(), rows[k:k + 2000])
        await session.execute(schemes.insert().values(scheme="calendar_month", first_start=month_before(month),
                                                      last_closed_end=month - timedelta(days=1)))
    async with runtime.db.session() as session:
        await session.execute(text("ANALYZE"))
    assert month_end < NOW.date()


async def close(runtime: ServiceRuntime, month: date) -> float:
    t = time.perf_counter()
    async with runtime.uow() as uow:
        await service.close_period(uow, FINANCE, scheme="calendar_month", period_start=month, today=NOW.date(), now=NOW)
        await uow.commit()
    return time.perf_counter() - t


async def bulk_insert(runtime: ServiceRuntime) -> tuple[float, int]:
    """The same number of lines, copied from the close's own and given new ids, inserted plainly (rolled back)."""
    async with runtime.db.session() as session:
        rows = [dict(r) for r in (await session.execute(select(invoice_lines))).mappings().all()]
    for r in rows:
        r["id"] = str(uuid.uuid4())
    t = time.perf_counter()
    async with runtime.db.session() as session:
        await session.begin()
        for k in range(0, len(rows), 5000):
            await session.execute(invoice_lines.insert(), rows[k:k + 5000])
        await session.flush()
        elapsed = time.perf_counter() - t
        await session.rollback()
    return elapsed, len(rows)


async def timed(runtime: ServiceRuntime, reads: int, fn) -> tuple[float, float]:
    """p50, p99 in ms of `reads` calls of fn(session), each in its own session as a request has."""
    times = []
    for _ in range(reads):
        t = time.perf_counter()
        async with runtime.db.session() as session:
            await fn(session)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.99))]


async def list_reads(runtime: ServiceRuntime, reads: int) -> dict[str, tuple[float, float]]:
    async with runtime.db.session() as session:
        period_id = (await session.execute(select(fee_periods.c.id))).scalars().first()
    council = Principal(client_id="bench-council", role="council", la_code="E10000000")

    async def floor(session):
        await repo.fee_period(session, period_id=period_id)

    async def former(session):  # the read before this change, kept here as the baseline
        rows = await repo.fee_periods_list(session, None)
        mine = {i["fee_period_id"] for i in await repo.invoices_list(session, council)}
        return [r for r in rows if r["id"] in mine]

    async def finance(session):
        await service.periods(session, FINANCE, None)

    async def of_council(session):
        await service.periods(session, council, None)

    async with runtime.db.session() as session:  # same answers, or the figures mean nothing
        assert [r["id"] for r in await former(session)] == \
            [r["id"] for r in await service.periods(session, council, None)]
    out = {}
    for name, fn in (("floor", floor), ("finance", finance), ("former", former), ("council", of_council)):
        await timed(runtime, 3, fn)  # warm (connections, compiled statements)
        out[name] = await timed(runtime, reads, fn)
    return out


async def main() -> None:
    database = f"itp_bench_{uuid.uuid4().hex[:8]}"
    await create_database(PG_ADMIN_URL, database)
    try:
        overrides = dict(transport="inprocess", database_url_template=pg_template(database), log_level="WARNING",
                         data_dir=Path("/tmp") / database)
        await migrate_all(("billing",), admin_url=PG_ADMIN_URL, **overrides)
        runtime = ServiceRuntime(settings_for("billing", **overrides), metadata)
        try:
            month = month_before(NOW.date())
            await seed(runtime, month)
            closing = await close(runtime, month)
            async with runtime.db.session() as session:
                invoices = (await session.execute(text("SELECT count(*) FROM invoices"))).scalar_one()
            bulk, lines = await bulk_insert(runtime)
            reads = max(20, min(N, 200))
            listing = await list_reads(runtime, reads)
        finally:
            await runtime.db.dispose()
    finally:
        await drop_database(PG_ADMIN_URL, database)
    print(f"bench-billing on Postgres: close {month:%Y-%m} for {N} placements of {COUNCILS} councils "
          f"({invoices} invoices, {lines} lines)")
    print(f"  close the month (one transaction)            {closing:7.3f} s")
    print(f"  plain bulk insert of the same lines          {bulk:7.3f} s")
    print(f"  ratio close / bulk insert                    {closing / bulk if bulk else float('nan'):7.2f} x"
          f"   (target: under 3 s and within 3x)")
    print(f"GET /v1/fee-periods as service.periods reads it, {reads} reads each (ms; ratio of p50 to the floor):")
    base = listing["floor"][0]
    for name, label in (("floor", "floor: one period by primary key"), ("finance", "finance: every period"),
                        ("former", "council, former read (periods + its invoices)"),
                        ("council", "council: periods holding its invoices")):
        p50, p99 = listing[name]
        print(f"  {label:<46} p50 {p50:6.2f}  p99 {p99:6.2f}   ratio {p50 / base if base else float('nan'):5.2f} x")


if __name__ == "__main__":
    asyncio.run(main())
