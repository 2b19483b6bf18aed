"""Billing on Postgres, two replicas at once: two concurrent closes of one period give one set of invoices
with gapless numbers; a block contract invoices the block under, at and above it; a second council's
invoices are numbered in their own sequence."""
from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import func, select

from itp.system import migrate_all, settings_for
from libs.common.auth import Principal
from libs.common.runtime import ServiceRuntime
from services.billing import service
from services.billing.tables import fee_periods, invoice_lines, invoices, metadata

from .support import PG_ADMIN_URL, pg_template

FINANCE = Principal(client_id="finance-1", role="finance", scopes=frozenset({"billing:write", "invoices:read"}))
NOW = datetime.now(timezone.utc)
TODAY = NOW.date()


def last_month() -> date:
    return (TODAY.replace(day=1) - timedelta(days=1)).replace(day=1)


async def runtimes(pg_database, tmp_path, n=2):
    overrides = dict(transport="inprocess", data_dir=tmp_path / "data", database_url_template=pg_template(pg_database),
                     log_level="WARNING")
    await migrate_all(("billing",), admin_url=PG_ADMIN_URL, **overrides)
    return [ServiceRuntime(settings_for("billing", **overrides), metadata) for _ in range(n)]


async def seed(runtime, la_code: str, children: int, *, form="spot", block=None) -> str:
    async with runtime.uow() as uow:
        contract = await service.create_contract(uow, FINANCE, values=dict(
            la_code=la_code, name=f"{form} {la_code}", form=form, start_date=date(2020, 1, 1),
            end_date=date(2030, 12, 31) if block else None, scheme="calendar_month", charge_arrival_day=True,
            charge_leaving_day=False, block_beds=block or 0, block_weekly_pence=(block or 0) * 450000,
            open_book=None), now=NOW)
        await service.add_schedule(uow, FINANCE, contract["id"], schedule=dict(
            effective_from=date(2020, 1, 1), effective_to=None, phase_1_weekly_pence=520000,
            phase_2_weekly_pence=378900, blended_weekly_pence=None), precondition=None, now=NOW)
        for i in range(children):
            pid, rid = str(uuid.uuid4()), str(uuid.uuid4())
            await service.record_referral(uow, referral_id=rid, la_code=la_code, child_ref=f"{la_code}-C{i}")
            await service.placement_started(uow, placement_id=pid, referral_id=rid, la_code=la_code,
                                            home_id=str(uuid.uuid4()), start_date=last_month() - timedelta(days=40 + i),
                                            now=NOW)
        await uow.commit()
    return contract["id"]


async def close(runtime, start: date) -> str:
    async with runtime.uow() as uow:
        period_id = await service.close_period(uow, FINANCE, scheme="calendar_month", period_start=start,
                                               today=TODAY, now=NOW)
        await uow.commit()
    return period_id


async def test_two_replicas_closing_one_period_at_once_make_one_set_of_invoices_numbered_without_gaps(
        pg_database, tmp_path):
    a, b = await runtimes(pg_database, tmp_path)
    try:
        await seed(a, "E10000018", 5)
        await seed(a, "E10000018", 3)            # a second contract in force: the latest-starting one charges
        await seed(a, "E10000019", 2)
        first = last_month() - timedelta(days=1)
        first = first.replace(day=1)
        ids = await asyncio.gather(close(a, first), close(b, first))
        assert ids[0] == ids[1]                   # the second waited for the first and answered its period
        ids = await asyncio.gather(close(b, last_month()), close(a, last_month()), close(a, last_month()))
        assert len(set(ids)) == 1
        async with a.db.session() as session:
            assert (await session.execute(select(func.count()).select_from(fee_periods))).scalar_one() == 2
            rows = (await session.execute(select(invoices.c.sequence, invoices.c.number, invoices.c.fee_period_id)
                                          .order_by(invoices.c.sequence, invoices.c.number))).all()
            lines = (await session.execute(select(func.count()).select_from(invoice_lines))).scalar_one()
        by_sequence = {}
        for seq, number, _ in rows:
            by_sequence.setdefault(seq, []).append(number)
        assert by_sequence == {"INV-E10000018": [1, 2], "INV-E10000019": [1, 2]}
        assert lines == 3 * 10  # each child: a charge each month, and at the first close its earlier days late

    finally:
        for r in (a, b):
            await r.db.dispose()


async def test_a_block_contract_is_paid_in_full_and_use_above_the_block_is_charged_at_spot(pg_database, tmp_path):
    (a,) = await runtimes(pg_database, tmp_path, 1)
    try:
        await seed(a, "E10000018", 3, form="block", block=2)
        period_id = await close(a, last_month())
        async with a.db.session() as session:
            view = await service.period_view(session, FINANCE, period_id)
            inv = await service.invoice_view(session, FINANCE, view["invoices"][0]["id"])
        kinds = [(line["stream"], line["child_ref"]) for line in inv["lines"] if line["kind"] == "charge"]
        # the block line, then the third child (latest arrival) above the block at the spot rate
        assert kinds == [("block", None), ("fee", "E10000018-C0")]
        assert [line["weekly_pence"] for line in inv["lines"] if line["kind"] == "charge"] == [900000, 520000]
        late = [line for line in inv["lines"] if line["kind"] == "late"]
        assert late and all(line["from_date"] < last_month() for line in late)
    finally:
        await a.db.dispose()
