"""The access log's group commit: concurrent reads of a child's record each get their row, in fewer
transactions than requests, and none is answered before its row is committed (a failed commit is a 503
for every answer in it)."""
from __future__ import annotations

import asyncio

from sqlalchemy import func, select, text

from services.gateway.tables import access_log

from .door import CHILD, door


async def _rows(d) -> int:
    async with d.runtime.db.session() as session:
        return (await session.execute(select(func.count()).select_from(access_log))).scalar_one()


async def test_concurrent_reads_are_each_logged_in_fewer_commits_and_a_failed_commit_answers_503(tmp_path):
    async with door(tmp_path) as d:
        writer = d.app.state.audit_writer
        headers = [d.headers(f"council-{i}") for i in range(40)]
        answers = await asyncio.gather(*(d.client.get(f"/v1/referrals/{CHILD}", headers=h) for h in headers))
        assert [a.status_code for a in answers] == [200] * 40
        assert await _rows(d) == 40 == writer.rows
        assert writer.commits < 40  # rows of responses waiting together went in one transaction

        async with d.runtime.db.session() as session, session.begin():
            await session.execute(text("ALTER TABLE access_log RENAME TO access_log_away"))
        failed = await asyncio.gather(*(d.client.get(f"/v1/referrals/{CHILD}", headers=h) for h in headers[:10]))
        assert {a.status_code for a in failed} == {503}
        assert {a.json()["type"].rsplit("/", 1)[-1] for a in failed} == {"audit-unavailable"}
        async with d.runtime.db.session() as session, session.begin():
            await session.execute(text("ALTER TABLE access_log_away RENAME TO access_log"))
        assert (await d.client.get(f"/v1/referrals/{CHILD}", headers=headers[0])).status_code == 200
        assert await _rows(d) == 41
