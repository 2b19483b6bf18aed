"""outcomes: invoice_lines (invoice.issued's lines per child, for the actual journey)

Revision ID: outcomes_0003
"""
import sqlalchemy as sa
from alembic import op

revision = "outcomes_0003"
down_revision = "outcomes_0002"


def upgrade() -> None:
    op.create_table(
        "invoice_lines",
        sa.Column("line_id", sa.String(36), primary_key=True),
        sa.Column("invoice_id", sa.String(36), nullable=False),
        sa.Column("la_code", sa.String(16), nullable=False),
        sa.Column("referral_id", sa.String(36), nullable=True),
        sa.Column("placement_id", sa.String(36), nullable=False),
        sa.Column("line_no", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("stream", sa.String(60), nullable=False),
        sa.Column("rate_key", sa.String(40), nullable=True),
        sa.Column("from_date", sa.Date, nullable=False),
        sa.Column("to_date", sa.Date, nullable=False),
        sa.Column("days", sa.Integer, nullable=False),
        sa.Column("weekly_pence", sa.Integer, nullable=True),
        sa.Column("amount_pence", sa.Integer, nullable=False),
        sa.Column("adjusts_line_id", sa.String(36), nullable=True),
        sa.Column("period_end", sa.Date, nullable=True),
    )
    op.create_index("ix_outcomes_invoice_lines_placement", "invoice_lines", ["placement_id"])


def downgrade() -> None:
    op.drop_index("ix_outcomes_invoice_lines_placement", table_name="invoice_lines")
    op.drop_table("invoice_lines")
