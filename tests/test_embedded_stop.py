"""`itp run` (embedded mode) asked to stop right after writes: the events those writes caused are still relayed
and handled before the services stop (System.settling_on_stop). The in-process bus is memory, so without that
wait an accepted referral's referral.received could be lost with it: matching never hears of the child."""
from __future__ import annotations

import uuid

import httpx
from sqlalchemy import func, select

from itp.system import build_system, migrate_all, settings_for
from libs.common.auth import KeyStore, mint_token
from libs.common.db import Database
from libs.common.events.outbox import pending_count
from services.gateway.domain.principals import COUNCIL_SCOPES
from services.matching.tables import referrals as matching_referrals
from services.referral.tables import metadata as referral_metadata

from .support.matching import referral_body

WRITES = 8


async def test_stopping_right_after_writes_still_delivers_every_event_they_caused(tmp_path):
    overrides = dict(transport="inprocess", data_dir=tmp_path)
    await migrate_all(**overrides)
    system = build_system(**overrides)
    app = system.settling_on_stop(timeout=30)
    keys = KeyStore(settings_for("gateway", **overrides).resolved_keys_file)
    council = {"Authorization": "Bearer " + mint_token(keys, client_id="stop-council", la_code="E10000018",
                                                       scopes=COUNCIL_SCOPES)}
    created = []
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://itp") as client:
            for i in range(WRITES):
                r = await client.post("/v1/referrals", json=referral_body(child_ref=f"STOP-{i}"),
                                      headers={**council, "Idempotency-Key": str(uuid.uuid4())})
                assert r.status_code == 201, r.text
                created.append(r.json()["id"])
        # the lifespan ends here, as Ctrl-C ends it: no wait for the events in between

    published, unhandled = system.bus.progress()
    assert unhandled == 0 and published >= WRITES
    referral_db = Database(settings_for("referral", **overrides))
    matching_db = Database(settings_for("matching", **overrides))
    try:
        async with referral_db.session() as session:
            assert await pending_count(session, referral_metadata.tables["outbox"]) == 0
        async with matching_db.session() as session:
            known = (await session.execute(select(func.count()).select_from(matching_referrals).where(
                matching_referrals.c.id.in_(created)))).scalar_one()
        assert known == WRITES  # matching heard of every referral accepted before the stop
    finally:
        await referral_db.dispose()
        await matching_db.dispose()
