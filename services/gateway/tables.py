from libs.common.types import UtcDateTime
from sqlalchemy import JSON, Boolean, Column, String, Table

from libs.common.runtime import build_metadata

metadata = build_metadata()

# API clients: councils' case-management systems and the hub's dashboard users.
api_clients = Table(
    "api_clients", metadata,
    Column("client_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("la_code", String(16), nullable=True, index=True),
    Column("role", String(32), nullable=True),
    Column("scopes", JSON, nullable=False),
    Column("secret_hash", String(400), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)
