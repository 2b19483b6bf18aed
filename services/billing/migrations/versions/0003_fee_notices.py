"""billing: fee_notices, the weekly fee last told to the other services per child (placement.fee_applied)

Revision ID: billing_0003
"""
import sqlalchemy as sa
from alembic import op

revision = "billing_0003"
down_revision = "billing_0002"


def upgrade() -> None:
    op.create_table(
        "fee_notices",
        sa.Column("referral_id", sa.String(36), primary_key=True),
        sa.Column("la_code", sa.String(16), nullable=False),
        sa.Column("admission_id", sa.String(36), nullable=True),
        sa.Column("placement_id", sa.String(36), nullable=True),
        sa.Column("home_id", sa.String(36), nullable=True),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date, nullable=True),
        sa.Column("contract_id", sa.String(36), nullable=True),
        sa.Column("weekly_pence", sa.Integer, nullable=True),
        sa.Column("basis", sa.String(20), nullable=True),
        sa.Column("effective_date", sa.Date, nullable=True),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_fee_notices_la_code", "fee_notices", ["la_code"])


def downgrade() -> None:
    op.drop_index("ix_fee_notices_la_code", "fee_notices")
    op.drop_table("fee_notices")
