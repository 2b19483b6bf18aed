"""Two gateway replicas over one Postgres (ITP_GATEWAY_STATE=database): a token minted by one verifies on the
other, a key rotation keeps the old key verifying until its tokens have expired, and a client's rate limit is
one bucket whichever replica it calls."""
from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta, timezone

import httpx
import jwt
from sqlalchemy import select, update

from libs.common.db import Database
from libs.common.events.transport import InProcessBus
from libs.common.migrations import upgrade
from libs.common.settings import Settings
from services.gateway.app import create_app
from services.gateway.clients import create_client
from services.gateway.keys import SharedKeys
from services.gateway.tables import signing_keys
from tests.support import PG_ADMIN_URL, wait_for

from .door import CHILD, stub_referral_service

SCOPES = ["referrals:read", "referrals:write"]


@contextlib.asynccontextmanager
async def replicas(pg_database, tmp_path, n=2, **overrides):
    """n gateway apps sharing one database, each with its own data directory (no file in common)."""
    base = dict(transport="inprocess", log_json=True, gateway_state="database", gateway_keys_refresh_seconds=0.2,
                database_url=f"postgresql+asyncpg://itp_gateway@127.0.0.1:5432/{pg_database}", **overrides)
    await upgrade(Settings.for_service("gateway", data_dir=tmp_path / "migrate", **base), admin_url=PG_ADMIN_URL)
    apps = [create_app(Settings.for_service("gateway", data_dir=tmp_path / f"replica-{i}", **base), bus=InProcessBus(),
                       upstream_apps={"referral": stub_referral_service()}) for i in range(n)]
    async with contextlib.AsyncExitStack() as stack:
        clients = []
        for app in apps:
            await stack.enter_async_context(app.router.lifespan_context(app))
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("203.0.113.7", 5000)),
                                       base_url="http://gateway.test")
            stack.push_async_callback(client.aclose)
            clients.append(client)
        async with apps[0].state.runtime.db.session() as session, session.begin():
            await create_client(session, name="County", la_code="E10000018", scopes=SCOPES, client_id="county",
                                client_secret="county-secret")
            await create_client(session, name="City", la_code="E06000016", scopes=SCOPES, client_id="city",
                                client_secret="city-secret")
        yield apps, clients
    for i in range(n):
        assert not (tmp_path / f"replica-{i}" / "signing-keys.json").exists()  # nothing in a local file


async def token(client: httpx.AsyncClient, client_id: str = "county") -> str:
    r = await client.post("/oauth/token", data={"grant_type": "client_credentials"},
                          auth=(client_id, f"{client_id}-secret"))
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


async def read(client: httpx.AsyncClient, access_token: str) -> httpx.Response:
    return await client.get(f"/v1/referrals/{CHILD}", headers={"Authorization": f"Bearer {access_token}"})


def kid(access_token: str) -> str:
    return jwt.get_unverified_header(access_token)["kid"]


async def test_a_token_minted_by_one_replica_verifies_on_another_and_survives_a_rotation(pg_database, tmp_path):
    async with replicas(pg_database, tmp_path) as ((a, b), (on_a, on_b)):
        before = await token(on_a)
        assert (await read(on_b, before)).status_code == 200
        assert (await read(on_a, await token(on_b))).status_code == 200
        assert (await on_a.get("/.well-known/jwks.json")).json() == (await on_b.get("/.well-known/jwks.json")).json()

        # B rotates; A signs with the new key once it has reread the set (every refresh period, 0.2 s here)
        rotated = await b.state.signing_keys.rotate()
        assert rotated["previous"] == [kid(before)]

        async def new_key_on_a():
            issued = await token(on_a)
            return issued if kid(issued) == rotated["active"] else None
        after = await wait_for(new_key_on_a, timeout=5)
        for client in (on_a, on_b):  # the old key's tokens stay good next to the new key's
            assert (await read(client, before)).status_code == 200
            assert (await read(client, after)).status_code == 200
            assert {k["kid"] for k in (await client.get("/.well-known/jwks.json")).json()["keys"]} == \
                {kid(before), kid(after)}

        async with a.state.runtime.db.session() as session:
            old = (await session.execute(select(signing_keys).where(signing_keys.c.kid == kid(before)))).mappings().one()
        assert old["status"] == "previous" and old["private_pem"] is None  # it never signs again
        ttl = a.state.runtime.settings.token_ttl_seconds
        assert old["verify_until"] - old["signing_ended_at"] >= timedelta(seconds=ttl)  # longer than its tokens live

        # once every token it signed has expired (moved forward here), the old key no longer verifies anywhere
        async with a.state.runtime.db.session() as session, session.begin():
            await session.execute(update(signing_keys).where(signing_keys.c.kid == kid(before))
                                  .values(verify_until=datetime.now(timezone.utc) - timedelta(seconds=1)))

        async def refused_everywhere():
            answers = [await read(client, before) for client in (on_a, on_b)]
            return all(r.status_code == 401 for r in answers) or None
        await wait_for(refused_everywhere, timeout=5)
        assert (await read(on_a, after)).status_code == 200 and (await read(on_b, after)).status_code == 200


async def test_replicas_starting_at_once_make_one_signing_key(pg_database, tmp_path):
    settings = Settings.for_service("gateway", data_dir=tmp_path, gateway_state="database",
                                    database_url=f"postgresql+asyncpg://itp_gateway@127.0.0.1:5432/{pg_database}")
    await upgrade(settings, admin_url=PG_ADMIN_URL)
    dbs = [Database(settings) for _ in range(4)]
    try:
        keys = [SharedKeys(db, token_ttl_seconds=600) for db in dbs]
        await asyncio.gather(*(k.ensure() for k in keys))
        await asyncio.gather(*(k.refresh() for k in keys))
        assert len({k.cached_signing_key()[0] for k in keys}) == 1
        async with dbs[0].session() as session:
            assert (await session.execute(select(signing_keys.c.status))).scalars().all() == ["active"]
        # two rotations at once are two rotations: one active key, both earlier keys still verifying
        await asyncio.gather(keys[0].rotate(), keys[1].rotate())
        async with dbs[0].session() as session:
            statuses = sorted((await session.execute(select(signing_keys.c.status))).scalars().all())
        assert statuses == ["active", "previous", "previous"]
    finally:
        for db in dbs:
            await db.dispose()


async def test_a_clients_rate_limit_is_one_bucket_across_replicas(pg_database, tmp_path):
    # a burst of 10 refilled at one token per 100 s; replicas report on demand here (sync() below)
    async with replicas(pg_database, tmp_path, gateway_rate_limit_burst=10, gateway_rate_limit_per_second=0.01,
                        gateway_rate_limit_sync_seconds=3600) as ((a, b), (on_a, on_b)):
        county_a, county_b = await token(on_a), await token(on_b)  # the token endpoint is limited per address
        assert [(await read(on_a, county_a)).status_code for _ in range(6)] == [200] * 6
        await a.state.rate_limits.sync()
        answers = [(await read(on_b, county_b)).status_code for _ in range(5)]
        assert answers == [200] * 4 + [429]  # B learnt the 6 spent on A before admitting anyone
        refused = await read(on_b, county_b)
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        await b.state.rate_limits.sync()
        await a.state.rate_limits.sync()  # A rereads the buckets it used lately, spent from or not
        assert (await read(on_a, county_a)).status_code == 429
        # another client has its own bucket
        assert (await read(on_a, await token(on_b, "city"))).status_code == 200
        assert a.state.rate_limits.syncs >= 2 and b.state.rate_limits.syncs >= 2


async def test_the_access_log_and_buckets_survive_their_held_connections_being_terminated(pg_database, tmp_path):
    """The access log's writer and the rate-limit sync each hold a connection; when Postgres terminates them
    (a restart, a failover) the next batch opens a fresh one: no 503, no row lost."""
    from sqlalchemy import func, text

    from libs.common.db import make_engine
    from services.gateway.tables import access_log

    async with replicas(pg_database, tmp_path, n=1) as ((a,), (on_a,)):
        county = await token(on_a)
        assert (await read(on_a, county)).status_code == 200
        await a.state.rate_limits.sync()
        admin = make_engine(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{pg_database}", isolation_level="AUTOCOMMIT")
        try:
            async with admin.connect() as conn:
                killed = (await conn.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :db "
                    "AND usename = 'itp_gateway' AND pid <> pg_backend_pid()"), {"db": pg_database})).all()
        finally:
            await admin.dispose()
        assert killed
        assert [(await read(on_a, county)).status_code for _ in range(3)] == [200] * 3
        await a.state.rate_limits.sync()
        async with a.state.runtime.db.session() as session:
            assert (await session.execute(select(func.count()).select_from(access_log))).scalar_one() == 4


async def test_tokens_keep_verifying_with_the_keys_held_while_the_key_table_cannot_be_read(pg_database, tmp_path):
    from sqlalchemy import text

    async with replicas(pg_database, tmp_path, n=1) as ((a,), (on_a,)):
        county = await token(on_a)
        async with a.state.runtime.db.session() as session, session.begin():
            await session.execute(text("ALTER TABLE signing_keys RENAME TO signing_keys_away"))
        try:
            verifier = a.state.runtime.verifier
            verifier.monotonic = lambda: 10**9  # the key set is due for a reread, which fails
            assert (await read(on_a, county)).status_code == 200
        finally:
            async with a.state.runtime.db.session() as session, session.begin():
                await session.execute(text("ALTER TABLE signing_keys_away RENAME TO signing_keys"))
