"""The risk vocabulary's migration on Postgres (issue 12): a referral stored before the split, with the undivided
exploitation_risk in its needs or risks, reads after referral_0005 and matching_0006 as both of its successors
(sexual_exploitation_risk and criminal_exploitation_risk, same severity), in the referral service's referrals and in
matching's read model, whose homes snapshot is made stale; rows without the old code are untouched."""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import column, select, text
from sqlalchemy import table as sa_table

from itp.system import settings_for
from libs.common.db import make_engine
from libs.common.migrations import upgrade
from services.matching import tables as matching_tables
from services.referral import tables as referral_tables

from .support import PG_ADMIN_URL, pg_template

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
OLD = [{"code": "exploitation_risk", "severity": "high"}, {"code": "missing_episodes", "severity": "medium"}]
ALREADY = [{"code": "criminal_exploitation_risk", "severity": "low"}, {"code": "exploitation_risk", "severity": "high"}]
SPLIT = [{"code": "sexual_exploitation_risk", "severity": "high"}, {"code": "criminal_exploitation_risk",
                                                                    "severity": "high"},
         {"code": "missing_episodes", "severity": "medium"}]
UNTOUCHED = [{"code": "trauma", "severity": "low"}]


def _before(table, values: list[dict]):
    """The table as it was before the migration: only the columns the old rows fill."""
    return sa_table(table.name, *[column(name, table.c[name].type) for name in values[0]])


async def _rows(settings, table, values: list[dict] | None = None) -> dict[str, dict]:
    engine = make_engine(settings.resolved_database_url,
                         connect_args={"server_settings": {"search_path": settings.schema}})
    try:
        async with engine.begin() as conn:
            if values:
                await conn.execute(table.insert(), values)
            return {r["id"]: dict(r) for r in (await conn.execute(select(table))).mappings()}
    finally:
        await engine.dispose()


async def test_stored_exploitation_risk_becomes_both_new_codes_in_referral_and_matching(pg_database, tmp_path):
    overrides = dict(database_url_template=pg_template(pg_database), data_dir=tmp_path)
    referral, matching = settings_for("referral", **overrides), settings_for("matching", **overrides)
    await upgrade(referral, "referral_0004", admin_url=PG_ADMIN_URL)
    await upgrade(matching, "matching_0005", admin_url=PG_ADMIN_URL)

    common = dict(la_code="E10000018", date_of_birth=date(2012, 3, 14), sex="female", urgency="crisis",
                  received_at=NOW, updated_at=NOW)
    old_referrals = [
        dict(id="r-old", child_ref="A", needs=UNTOUCHED, risks=OLD, status="received", version=1, **common),
        dict(id="r-both", child_ref="B", needs=[{"code": "exploitation_risk", "severity": "low"}], risks=ALREADY,
             status="received", version=1, **common),
        dict(id="r-new", child_ref="C", needs=UNTOUCHED, risks=UNTOUCHED, status="received", version=1, **common)]
    await _rows(referral, _before(referral_tables.referrals, old_referrals), old_referrals)
    old_read_model = [dict(id="r-old", needs=UNTOUCHED, risks=OLD, status="awaiting_decision", **common),
                      dict(id="r-new", needs=UNTOUCHED, risks=UNTOUCHED, status="awaiting_decision", **common)]
    await _rows(matching, _before(matching_tables.referrals, old_read_model), old_read_model)
    version_before = await _homes_version(matching)

    await upgrade(referral, admin_url=PG_ADMIN_URL)
    await upgrade(matching, admin_url=PG_ADMIN_URL)

    referrals = await _rows(referral, referral_tables.referrals)
    assert referrals["r-old"]["risks"] == SPLIT and referrals["r-old"]["needs"] == UNTOUCHED
    assert referrals["r-both"]["risks"] == [{"code": "criminal_exploitation_risk", "severity": "low"},
                                            {"code": "sexual_exploitation_risk", "severity": "high"}]
    assert referrals["r-both"]["needs"] == [{"code": "sexual_exploitation_risk", "severity": "low"},
                                            {"code": "criminal_exploitation_risk", "severity": "low"}]
    assert referrals["r-new"]["risks"] == UNTOUCHED
    assert referrals["r-old"]["no_known_risks"] is None and referrals["r-old"]["placement_request"] is None
    read_model = await _rows(matching, matching_tables.referrals)
    assert read_model["r-old"]["risks"] == SPLIT and read_model["r-new"]["risks"] == UNTOUCHED
    assert await _homes_version(matching) == version_before + 1


async def _homes_version(settings) -> int:
    engine = make_engine(settings.resolved_database_url,
                         connect_args={"server_settings": {"search_path": settings.schema}})
    try:
        async with engine.connect() as conn:
            return (await conn.execute(text("SELECT homes_version FROM matching_state WHERE id = 1"))).scalar_one()
    finally:
        await engine.dispose()
