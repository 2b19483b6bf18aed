"""gateway: messaging tables and API clients

Revision ID: gateway_0001
"""
import sqlalchemy as sa
from alembic import op

from libs.common.events.tables import create_messaging_tables, drop_messaging_tables

revision = "gateway_0001"
down_revision = None


def upgrade() -> None:
    create_messaging_tables(op)
    op.create_table(
        "api_clients",
        sa.Column("client_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("la_code", sa.String(16), nullable=True, index=True),
        sa.Column("role", sa.String(32), nullable=True),
        sa.Column("scopes", sa.JSON, nullable=False),
        sa.Column("secret_hash", sa.String(400), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("api_clients")
    drop_messaging_tables(op)
