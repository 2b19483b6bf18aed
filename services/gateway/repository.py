"""The gateway's SQL for its own records: the access log (rows written at the door, the data-protection
officer's pages of it), the shared signing keys and the shared rate-limit buckets. The webhooks' SQL is in
webhooks/repository.py. Nothing here commits except `write_access`, which is its own short transaction by
design: the door writes the access log before the answer leaves, whatever the request itself did."""
from __future__ import annotations

import functools
from datetime import datetime

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import dialect_insert, insert_many

from .tables import access_log, rate_limit_buckets, signing_keys


async def write_access(db, rows: list[dict]) -> None:
    """One row per child record a response touched, committed before the response leaves."""
    async with db.session() as session, session.begin():
        await insert_many(session, access_log, rows)


async def insert_access(conn, rows: list[dict]) -> None:
    """The same rows on a connection in autocommit (HeldConnection): one statement, atomic on its own (on
    Postgres one INSERT .. SELECT of all the rows, libs.common.db.insert_many: a page of 20 referrals is 20 rows,
    and executemany's statement per row was most of the access log's cost in the database)."""
    await insert_many(conn, access_log, rows)


class HeldConnection:
    """One connection a background writer keeps (the access log's group commit, the rate-limit sync): no pool
    checkout, pre-ping or BEGIN/COMMIT per batch; each statement runs in autocommit and is atomic on its own.
    After any error the connection is dropped and the next call opens a fresh one."""

    def __init__(self, db):
        self.db = db
        self._conn = None

    async def run(self, work):
        """await work(connection) on the held connection. A held connection that fails (the database restarted,
        its backend was terminated) is replaced and the work tried once more on the fresh one, as the pool's
        pre-ping would have done; a fresh connection's failure is the caller's."""
        held = self._conn is not None
        try:
            return await work(await self._connection())
        except Exception:
            await self.close()
            if not held:
                raise
        try:
            return await work(await self._connection())
        except BaseException:
            await self.close()
            raise

    async def _connection(self):
        if self._conn is None:
            conn = await self.db.engine.connect()
            try:
                self._conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            except BaseException:
                await conn.close()
                raise
        return self._conn

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.close()
            except Exception:  # noqa: BLE001 - a broken connection is discarded either way
                await conn.invalidate()


def access_entries(*, child: str | None = None, client: str | None = None, since: datetime | None = None,
                   until: datetime | None = None, before_id: int | None = None) -> Select:
    """The access log, newest first, narrowed by child record, client, time window and keyset cursor."""
    stmt = select(access_log).order_by(access_log.c.id.desc())
    if child:
        stmt = stmt.where(access_log.c.child_record_id == child.lower())
    if client:
        stmt = stmt.where(access_log.c.client_id == client)
    if since is not None:
        stmt = stmt.where(access_log.c.at >= since)
    if until is not None:
        stmt = stmt.where(access_log.c.at < until)
    if before_id is not None:
        stmt = stmt.where(access_log.c.id < before_id)
    return stmt


async def access_page(session: AsyncSession, limit: int, **narrowing) -> list[dict]:
    """Up to limit + 1 rows (the extra one tells the caller there is a next page)."""
    rows = (await session.execute(access_entries(**narrowing).limit(limit + 1))).mappings().all()
    return [dict(r) for r in rows]


# --- signing keys (services/gateway/keys.py) --------------------------------------------------------------
async def verifying_keys(session: AsyncSession, now: datetime) -> list[dict]:
    """The active key and every key that still verifies the tokens it signed."""
    rows = await session.execute(select(signing_keys).where(or_(
        signing_keys.c.status == "active",
        (signing_keys.c.status == "previous") & (signing_keys.c.verify_until > now))))
    return [dict(r) for r in rows.mappings()]


async def insert_signing_key(session: AsyncSession, *, kid: str, private_pem: str | None, public_jwk: dict,
                             now: datetime, active: bool, verify_until: datetime | None = None) -> None:
    """An active key takes the one active slot (a second active key is an IntegrityError)."""
    await session.execute(signing_keys.insert().values(
        kid=kid, status="active" if active else "previous", active_slot=1 if active else None,
        private_pem=private_pem if active else None, public_jwk=public_jwk, created_at=now,
        signing_ended_at=None if active else now, verify_until=verify_until))


async def end_signing(session: AsyncSession, *, now: datetime, verify_until: datetime) -> list[str]:
    """The active key stops signing: it keeps verifying until verify_until, and its private half is dropped."""
    rows = await session.execute(update(signing_keys).where(signing_keys.c.status == "active").values(
        status="previous", active_slot=None, private_pem=None, signing_ended_at=now, verify_until=verify_until)
        .returning(signing_keys.c.kid))
    return [r[0] for r in rows]


async def retire_expired_keys(session: AsyncSession, now: datetime) -> None:
    await session.execute(update(signing_keys).where(signing_keys.c.status == "previous",
                                                     signing_keys.c.verify_until <= now).values(status="retired"))


# --- rate-limit buckets (protection.py) -------------------------------------------------------------------
async def spend_from_buckets(session, spent: dict[str, int], *, rate: float, burst: int,
                             now: float) -> dict[str, float]:
    """One statement for every bucket: each is refilled for the time since its last update (at most `burst`),
    then what this replica admitted since its last report is taken off (it may go below zero: the other
    replicas then refuse until it refills). Answers the tokens each bucket holds now. Atomic per row, so
    replicas reporting at once are all counted."""
    dialect = (session.dialect if hasattr(session, "dialect") else session.bind.dialect).name
    stmt = _spend_statement(dialect, rate, burst)
    # executemany of one statement: SQLAlchemy sends it as one multi-row INSERT ("insertmanyvalues") without
    # compiling a statement for each number of rows
    rows = [{"bucket": k, "tokens": float(burst - n), "updated": now} for k, n in spent.items()]
    return {bucket: tokens for bucket, tokens in (await session.execute(stmt, rows)).all()}


@functools.lru_cache(maxsize=8)
def _spend_statement(dialect: str, rate: float, burst: int):
    """The upsert of spend_from_buckets, built once per dialect and limit (it runs every sync period)."""
    insert = dialect_insert(dialect)
    least, greatest = (func.least, func.greatest) if dialect == "postgresql" else (func.min, func.max)
    t = rate_limit_buckets
    stmt = insert(t)
    refilled = least(float(burst), t.c.tokens + greatest(0.0, stmt.excluded.updated - t.c.updated) * rate)
    return stmt.on_conflict_do_update(index_elements=[t.c.bucket], set_={
        # excluded.tokens is burst - spent (what a new bucket would hold)
        "tokens": refilled - (float(burst) - stmt.excluded.tokens),
        "updated": greatest(t.c.updated, stmt.excluded.updated),
    }).returning(t.c.bucket, t.c.tokens)


async def forget_full_buckets(session, *, before: float) -> None:
    """Buckets untouched since `before` have refilled completely: nothing worth keeping."""
    await session.execute(rate_limit_buckets.delete().where(rate_limit_buckets.c.updated < before))
