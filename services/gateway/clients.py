"""API clients: created by `itp client create`, used by the token endpoint."""
from __future__ import annotations

import secrets
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .domain.principals import COUNCIL_SCOPES, InvalidClient, check_client
from .domain.secrets import hash_secret, new_secret
from .tables import api_clients


async def create_client(session: AsyncSession, *, name: str, la_code: str | None = None, role: str | None = None,
                        scopes: list[str] | None = None, client_id: str | None = None,
                        client_secret: str | None = None, homes: list[str] | None = None) -> dict:
    scopes = list(scopes or (COUNCIL_SCOPES if la_code else []))
    check_client(la_code, role, scopes)
    if homes and role != "home_manager":
        raise InvalidClient("only a home_manager client is limited to homes (--home)")
    client_id = client_id or f"itp_{secrets.token_hex(8)}"
    client_secret = client_secret or new_secret()
    await session.execute(api_clients.insert().values(
        client_id=client_id, name=name, la_code=la_code, role=role, scopes=scopes, homes=list(homes or []) or None,
        secret_hash=hash_secret(client_secret), active=True, created_at=datetime.now(timezone.utc)))
    return {"client_id": client_id, "client_secret": client_secret, "name": name, "la_code": la_code, "role": role,
            "scopes": scopes, "homes": list(homes or [])}


async def client_by_id(session: AsyncSession, client_id: str):
    """The registered client (its row) or None."""
    return (await session.execute(select(api_clients).where(api_clients.c.client_id == client_id))).first()
