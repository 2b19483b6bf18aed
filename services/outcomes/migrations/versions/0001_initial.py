"""outcomes: messaging tables

Revision ID: outcomes_0001
"""
from alembic import op

from libs.common.events.tables import create_messaging_tables, drop_messaging_tables

revision = "outcomes_0001"
down_revision = None


def upgrade() -> None:
    create_messaging_tables(op)


def downgrade() -> None:
    drop_messaging_tables(op)
