"""One async engine and session factory per service.

On Postgres each service owns a schema named after it and connects as its own role
(itp_<service>), with search_path pinned to that schema: no service can read another's tables.
In embedded mode each service has its own SQLite file.
"""
from __future__ import annotations

import asyncio
import re

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from .settings import Settings

_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


def role_name(service: str) -> str:
    return f"itp_{service}"


class Database:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.url = settings.resolved_database_url
        self.is_postgres = settings.is_postgres
        self.schema = settings.schema if self.is_postgres else None
        kwargs: dict = {}
        if self.is_postgres:
            kwargs["connect_args"] = {"server_settings": {"search_path": self.schema}}
            kwargs["pool_size"] = 10
            kwargs["max_overflow"] = 10
        else:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": 30}
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if not self.is_postgres:
            @event.listens_for(self.engine.sync_engine, "connect")
            def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA busy_timeout=30000")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.close()
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        # set by a commit that wrote to the outbox; the relay waits on it
        self.outbox_signal = asyncio.Event()

    def session(self) -> AsyncSession:
        return self.sessionmaker()

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


async def provision_postgres(admin_url: str, database_url: str, service: str) -> None:
    """Create the service's schema and role (idempotent). Needs a superuser URL.

    The role owns its schema and nothing else; PUBLIC gets nothing, so a service role
    cannot even look into another service's schema.
    """
    url = make_url(database_url)
    role = url.username or role_name(service)
    schema = service
    for ident in (role, schema):
        if not _IDENT.match(ident):
            raise ValueError(f"unsafe identifier {ident!r}")
    password = url.password
    engine = create_async_engine(make_url(admin_url).set(database=url.database), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            exists = (await conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname=:r"), {"r": role})).first()
            if not exists:
                try:
                    await conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
                except Exception:  # another process created it at the same moment
                    pass
            if password:
                await conn.execute(text(f"ALTER ROLE \"{role}\" PASSWORD '{password.replace(chr(39), '')}'"))
            await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}" AUTHORIZATION "{role}"'))
            await conn.execute(text(f'ALTER SCHEMA "{schema}" OWNER TO "{role}"'))
            await conn.execute(text(f'REVOKE ALL ON SCHEMA "{schema}" FROM PUBLIC'))
            await conn.execute(text(f'GRANT CONNECT ON DATABASE "{url.database}" TO "{role}"'))
            await conn.execute(text("REVOKE CREATE ON SCHEMA public FROM PUBLIC"))
    finally:
        await engine.dispose()


async def create_database(admin_url: str, name: str) -> None:
    if not _IDENT.match(name):
        raise ValueError(f"unsafe database name {name!r}")
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            exists = (await conn.execute(text("SELECT 1 FROM pg_database WHERE datname=:d"), {"d": name})).first()
            if not exists:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()


async def drop_database(admin_url: str, name: str) -> None:
    if not _IDENT.match(name):
        raise ValueError(f"unsafe database name {name!r}")
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()
