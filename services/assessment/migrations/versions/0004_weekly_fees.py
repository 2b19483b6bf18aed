"""assessment: weekly_fees, the weekly fee that applies to each child as billing tells it (placement.fee_applied)

Revision ID: assessment_0004
"""
from alembic import op

from libs.common.weekly_fees import create_weekly_fees_table

revision = "assessment_0004"
down_revision = "assessment_0003"


def upgrade() -> None:
    create_weekly_fees_table(op)


def downgrade() -> None:
    op.drop_table("weekly_fees")
