"""matching: weekly_fees, the weekly fee that applies to each child as billing tells it (placement.fee_applied)

Revision ID: matching_0004
"""
import sqlalchemy as sa
from alembic import op

revision = "matching_0004"
down_revision = "matching_0003"


def upgrade() -> None:
    op.create_table(
        "weekly_fees",
        sa.Column("referral_id", sa.String(36), primary_key=True),
        sa.Column("admission_id", sa.String(36), nullable=True),
        sa.Column("placement_id", sa.String(36), nullable=True),
        sa.Column("contract_id", sa.String(36), nullable=True),
        sa.Column("weekly_pence", sa.Integer, nullable=True),
        sa.Column("basis", sa.String(20), nullable=False),
        sa.Column("effective_date", sa.Date, nullable=True),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("weekly_fees")
