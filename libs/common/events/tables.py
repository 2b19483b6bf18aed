"""Outbox, inbox and dead-letter tables, added to each service's own metadata."""
from __future__ import annotations

from libs.common.types import UtcDateTime
from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table, Text, UniqueConstraint
from sqlalchemy.dialects import sqlite

# SQLite autoincrements only a column declared INTEGER PRIMARY KEY
BigId = BigInteger().with_variant(sqlite.INTEGER(), "sqlite")


def messaging_tables(metadata: MetaData) -> tuple[Table, Table, Table]:
    outbox = Table(
        "outbox", metadata,
        Column("seq", BigId, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("event_type", String(80), nullable=False),
        Column("topic", String(120), nullable=False),
        Column("key", String(120), nullable=False),
        Column("envelope", Text, nullable=False),
        Column("created_at", UtcDateTime(), nullable=False),
        Column("published_at", UtcDateTime(), nullable=True, index=True),
    )
    inbox = Table(
        "inbox", metadata,
        Column("event_id", String(36), primary_key=True),
        Column("event_type", String(80), nullable=False),
        Column("handled_at", UtcDateTime(), nullable=False),
    )
    dead_letters = Table(
        "dead_letters", metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False),
        Column("event_type", String(80), nullable=False),
        Column("topic", String(120), nullable=False),
        Column("envelope", Text, nullable=False),
        Column("error", Text, nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("parked_at", UtcDateTime(), nullable=False),
        Column("replayed_at", UtcDateTime(), nullable=True),
        Column("status", String(20), nullable=False, default="parked"),
        UniqueConstraint("event_id", "parked_at", name="uq_dead_letter_event_parked"),
    )
    return outbox, inbox, dead_letters


def create_messaging_tables(op) -> None:
    """Alembic helper for a service's first migration: the messaging tables as defined above (version 1)."""
    for table in messaging_tables(MetaData()):
        table.create(op.get_bind())


def drop_messaging_tables(op) -> None:
    for table in reversed(messaging_tables(MetaData())):
        table.drop(op.get_bind())
