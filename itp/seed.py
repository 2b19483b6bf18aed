"""Demo data for `make run`: two councils and their API clients, and the hub's own clients.

The credentials are fixed so that the README and the start-up banner can show them; they are for
the embedded demo only.
"""
from __future__ import annotations

from sqlalchemy import select

from libs.common.db import Database
from services.gateway.clients import create_client
from services.gateway.tables import api_clients

from .system import settings_for

DEMO_COUNCILS = {
    "E10000018": "Leicestershire County Council",
    "E06000016": "Leicester City Council",
}
DEMO_CLIENTS = [
    dict(client_id="demo-leicestershire", client_secret="demo-leicestershire-secret",
         name="Leicestershire case management (demo)", la_code="E10000018"),
    dict(client_id="demo-leicester", client_secret="demo-leicester-secret",
         name="Leicester case management (demo)", la_code="E06000016"),
    dict(client_id="demo-hub", client_secret="demo-hub-secret", name="Hub referrals coordinator (demo)",
         role="hub", scopes=["hub:all"]),
]


async def seed_demo(**overrides) -> list[dict]:
    db = Database(settings_for("gateway", **overrides))
    created = []
    try:
        async with db.session() as session, session.begin():
            for client in DEMO_CLIENTS:
                exists = (await session.execute(select(api_clients.c.client_id)
                                                .where(api_clients.c.client_id == client["client_id"]))).first()
                if not exists:
                    created.append(await create_client(session, **client))
    finally:
        await db.dispose()
    return created
