from libs.common.types import UtcDateTime
from sqlalchemy import JSON, Column, Date, Integer, String, Table

from libs.common.runtime import build_metadata

metadata = build_metadata()

referrals = Table(
    "referrals", metadata,
    Column("id", String(36), primary_key=True),
    Column("la_code", String(16), nullable=False, index=True),
    Column("child_ref", String(64), nullable=False),
    Column("date_of_birth", Date, nullable=False),
    Column("sex", String(10), nullable=False),
    Column("legal_status", String(4), nullable=True),
    Column("home_outward_code", String(8), nullable=True),
    Column("needs", JSON, nullable=False),
    Column("risks", JSON, nullable=False),
    Column("urgency", String(10), nullable=False),
    Column("wanted_start_date", Date, nullable=True),
    Column("status", String(20), nullable=False),
    Column("version", Integer, nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)
