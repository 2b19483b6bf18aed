"""The gateway's SQL for its own records: the access log (rows written at the door, the data-protection
officer's pages of it). The webhooks' SQL is in webhooks/repository.py. Nothing here commits except
`write_access`, which is its own short transaction by design: the door writes the access log before the
answer leaves, whatever the request itself did."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from .tables import access_log


async def write_access(db, rows: list[dict]) -> None:
    """One row per child record a response touched, committed before the response leaves."""
    async with db.session() as session, session.begin():
        await session.execute(access_log.insert(), rows)


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
