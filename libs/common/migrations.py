"""Each service's own Alembic migrations and version table, run programmatically.

The service's migrations live in services/<service>/migrations (env.py calls run_env below).
On Postgres they run as the service's role with search_path set to its schema, so every table
(and the alembic_version table) lands in that schema owned by that role.
"""
from __future__ import annotations

import importlib
from pathlib import Path

from alembic import command
from alembic.config import Config
from .db import make_engine, provision_postgres
from .settings import Settings


def migrations_dir(service: str) -> Path:
    module = importlib.import_module(f"services.{service}")
    return Path(module.__file__).parent / "migrations"


def _config(service: str, connection, schema: str | None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir(service)))
    cfg.attributes["connection"] = connection
    cfg.attributes["schema"] = schema
    return cfg


async def upgrade(settings: Settings, revision: str = "head", *, admin_url: str | None = None) -> None:
    url = settings.resolved_database_url
    kwargs = {}
    if settings.is_postgres:
        if admin_url:
            await provision_postgres(admin_url, url, settings.service)
        kwargs["connect_args"] = {"server_settings": {"search_path": settings.schema}}
    else:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url, **kwargs)
    schema = settings.schema if settings.is_postgres else None
    try:
        async with engine.begin() as conn:
            await conn.run_sync(lambda sync_conn: command.upgrade(_config(settings.service, sync_conn, schema), revision))
    finally:
        await engine.dispose()


def run_env() -> None:
    """Body of every service's migrations/env.py."""
    from alembic import context

    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations with `itp migrate SERVICE`")
    context.configure(connection=connection, target_metadata=None, version_table="alembic_version",
                      version_table_schema=context.config.attributes.get("schema"),
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()
