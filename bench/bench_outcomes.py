"""`make bench-outcomes`: 5 years of history for 4,000 homes and 30,000 placements (with their referrals,
needs, decisions and declines) in the outcomes service's read models on Postgres, then the sufficiency report
for one council and for all of England, p50/p99 over repeated runs, next to a plain aggregate query over the
same rows (referrals counted by council for the range). Not a test: it prints figures.
Target: under 200 ms for one council, under 1 s for England."""
from __future__ import annotations

import asyncio
import random
import sys
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from bench.common import pct  # noqa: E402
from itp.system import migrate_all, settings_for  # noqa: E402
from itp.testing import PG_ADMIN_URL, pg_template  # noqa: E402
from libs.common.db import create_database, drop_database  # noqa: E402
from libs.common.runtime import ServiceRuntime  # noqa: E402
from services.outcomes.domain import sufficiency  # noqa: E402
from services.outcomes.repository import sufficiency_rows  # noqa: E402
from services.outcomes.tables import (decisions, homes, metadata, placements, referral_needs,  # noqa: E402
                                      referrals)

HOMES = 4_000
PLACEMENTS = int(sys.argv[1]) if len(sys.argv) > 1 else 30_000
COUNCILS = 153
YEARS = 5
RUNS = 30
TODAY = datetime.now(timezone.utc).date()
NEEDS = ("mental_health", "exploitation_risk", "self_harm", "neurodiversity", "learning_disability",
         "substance_misuse", "violence", "missing_episodes")
REASONS = ("risk_to_current_group", "needs_beyond_registration", "no_vacancy", "staffing", "other")
OUTWARDS = ("LE4", "LE1", "NG7", "B15", "M14", "LS6", "S10", "BS5", "NE4", "CV3", "DE22", "L8")


async def seed(runtime: ServiceRuntime) -> int:
    rnd = random.Random(7)
    las = [f"E{10000000 + i:08d}" for i in range(COUNCILS)]
    home_ids = [str(uuid.uuid4()) for _ in range(HOMES)]
    hrows = [dict(home_id=h, postcode_district=rnd.choice(OUTWARDS), registered_places=rnd.choice((2, 3, 4, 5, 6)))
             for h in home_ids]
    start = TODAY - timedelta(days=365 * YEARS)
    rrows, nrows, drows, prows = [], [], [], []
    n_referrals = int(PLACEMENTS * 1.4)   # some declined or withdrawn
    for i in range(n_referrals):
        rid, la = str(uuid.uuid4()), las[i % COUNCILS]
        received = start + timedelta(days=rnd.randrange(365 * YEARS))
        at = datetime(received.year, received.month, received.day, rnd.randrange(24), tzinfo=timezone.utc)
        rrows.append(dict(referral_id=rid, la_code=la, child_ref=f"C-{i}", home_outward_code=rnd.choice(OUTWARDS),
                          urgency="crisis", received_on=received, received_day=received.toordinal(),
                          received_hours=at.timestamp() / 3600, withdrawn=False))
        for code in rnd.sample(NEEDS, rnd.randrange(1, 4)):
            nrows.append(dict(referral_id=rid, need_code=code, la_code=la, received_day=received.toordinal()))
        decided = at + timedelta(hours=rnd.randrange(2, 96))
        accepted = i < PLACEMENTS
        drows.append(dict(admission_id=str(uuid.uuid4()), referral_id=rid, la_code=la,
                          decision="accepted" if accepted else "declined",
                          reason_code=None if accepted else rnd.choice(REASONS),
                          home_id=rnd.choice(home_ids) if accepted else None, decided_day=decided.date().toordinal(),
                          decided_hours=decided.timestamp() / 3600, received_hours=at.timestamp() / 3600))
        if accepted:
            arrival = received + timedelta(days=rnd.randrange(0, 5))
            end = arrival + timedelta(days=rnd.randrange(20, 900))
            ended = end <= TODAY
            prows.append(dict(placement_id=str(uuid.uuid4()), referral_id=rid, la_code=la,
                              home_id=drows[-1]["home_id"], start_date=arrival, start_day=arrival.toordinal(),
                              end_date=end if ended else None, end_day=end.toordinal() if ended else None,
                              planned=(rnd.random() < 0.7) if ended else None,
                              ending_type=None if not ended else rnd.choice(("step_down", "breakdown")),
                              destination=None, received_day=received.toordinal(),
                              distance_km=round(rnd.uniform(1, 200), 1), outside_area=rnd.random() < 0.4,
                              fee_basis=rnd.choice(("phase_1", "phase_2", "blended", "no_contract")),
                              contract_id=None))
    async with runtime.db.session() as session, session.begin():
        for table, rows in ((homes, hrows), (referrals, rrows), (referral_needs, nrows), (decisions, drows),
                            (placements, prows)):
            for k in range(0, len(rows), 5000):
                await session.execute(table.insert(), rows[k:k + 5000])
    async with runtime.db.engine.connect() as conn:
        await conn.exec_driver_sql("ANALYZE")
    return n_referrals


async def timed(fn, runs: int = RUNS) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


async def main() -> None:
    database = f"itp_bench_{uuid.uuid4().hex[:8]}"
    await create_database(PG_ADMIN_URL, database)
    try:
        overrides = dict(transport="inprocess", database_url_template=pg_template(database), log_level="WARNING",
                         data_dir=Path("/tmp") / database)
        await migrate_all(("outcomes",), admin_url=PG_ADMIN_URL, **overrides)
        runtime = ServiceRuntime(settings_for("outcomes", **overrides), metadata)
        try:
            t0 = time.perf_counter()
            n_referrals = await seed(runtime)
            seeded = time.perf_counter() - t0
            start, end = TODAY - timedelta(days=365), TODAY
            la = "E10000042"

            async def report(la_code):
                async with runtime.db.session() as session:
                    rows = await sufficiency_rows(session, start, end, la_code, True)
                return sufficiency.shape(rows, start, end, la_code, la_code is not None)

            async def plain(la_code):
                async with runtime.db.session() as session:
                    q = select(referrals.c.la_code, func.count()).where(
                        referrals.c.received_day.between(start.toordinal(), end.toordinal()))
                    if la_code:
                        q = q.where(referrals.c.la_code == la_code)
                    return (await session.execute(q.group_by(referrals.c.la_code))).all()

            await report(None)
            figures = {name: await timed(fn) for name, fn in (
                ("council", lambda: report(la)), ("england", lambda: report(None)),
                ("plain_council", lambda: plain(la)), ("plain_england", lambda: plain(None)))}
            sample = await report(None)
        finally:
            await runtime.db.dispose()
    finally:
        await drop_database(PG_ADMIN_URL, database)
    print(f"bench-outcomes on Postgres: {YEARS} years, {HOMES} homes, {PLACEMENTS} placements, {n_referrals} "
          f"referrals of {COUNCILS} councils (seeded in {seeded:.1f} s); the last 12 months, {RUNS} runs each")
    print(f"  (England: {sample['referrals']['total']} referrals, {sample['placements_made']['total']} placements, "
          f"median days to admission {sample['days_to_admission']['median']})")
    for label, key, target in (("sufficiency report, one council", "council", "< 200 ms"),
                               ("plain aggregate, one council", "plain_council", ""),
                               ("sufficiency report, England", "england", "< 1000 ms"),
                               ("plain aggregate, England", "plain_england", "")):
        v = figures[key]
        print(f"  {label:34s} p50 {pct(v, 50):8.1f} ms   p99 {pct(v, 99):8.1f} ms   {target}")


if __name__ == "__main__":
    asyncio.run(main())
