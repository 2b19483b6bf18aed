"""matching: messaging tables and the referrals read model

Revision ID: matching_0001
"""
import sqlalchemy as sa
from alembic import op

from libs.common.events.tables import create_messaging_tables, drop_messaging_tables

revision = "matching_0001"
down_revision = None


def upgrade() -> None:
    create_messaging_tables(op)
    op.create_table(
        "referrals",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("la_code", sa.String(16), nullable=False, index=True),
        sa.Column("date_of_birth", sa.Date, nullable=False),
        sa.Column("sex", sa.String(10), nullable=False),
        sa.Column("home_outward_code", sa.String(8), nullable=True),
        sa.Column("needs", sa.JSON, nullable=False),
        sa.Column("risks", sa.JSON, nullable=False),
        sa.Column("urgency", sa.String(10), nullable=False),
        sa.Column("wanted_start_date", sa.Date, nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("referrals")
    drop_messaging_tables(op)
