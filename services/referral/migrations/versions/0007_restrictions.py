"""referral: restrictions of processing (issue 15, docs/decisions/0006-retention.md): a right-to-erasure request
is recorded as a restriction of the child's record, never a deletion

Revision ID: referral_0007
"""
import sqlalchemy as sa
from alembic import op

from libs.common.types import UtcDateTime

revision = "referral_0007"
down_revision = "referral_0006"


def upgrade() -> None:
    op.create_table(
        "restrictions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("referral_id", sa.String(36), nullable=False),
        sa.Column("reason_code", sa.String(30), nullable=False),
        sa.Column("requested_by", sa.String(30), nullable=False),
        sa.Column("requested_on", sa.Date, nullable=False),
        sa.Column("scope", sa.JSON, nullable=False),
        sa.Column("recorded_by", sa.String(120), nullable=False),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.Column("lifted_at", UtcDateTime(), nullable=True),
    )
    op.create_index("ix_restrictions_referral_id", "restrictions", ["referral_id"])


def downgrade() -> None:
    # the restrictions are themselves part of the record: a downgrade keeps them (see 0006-retention.md)
    op.rename_table("restrictions", "restrictions_kept")
