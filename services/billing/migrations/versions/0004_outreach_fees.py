"""billing: outreach fees (issue 16): outreach rates on fee schedules, yearly retainers on contracts, the
interventions billing charges, and the intervention of an outreach invoice line

Revision ID: billing_0004
"""
import sqlalchemy as sa
from alembic import op

revision = "billing_0004"
down_revision = "billing_0003"


def upgrade() -> None:
    op.add_column("contracts", sa.Column("retainer_interventions", sa.Integer, nullable=True))
    op.add_column("contracts", sa.Column("retainer_yearly_pence", sa.Integer, nullable=True))
    op.add_column("fee_schedules", sa.Column("outreach_weekly_pence", sa.Integer, nullable=True))
    op.add_column("fee_schedules", sa.Column("outreach_fixed_pence", sa.Integer, nullable=True))
    op.add_column("billing_changes", sa.Column("intervention_id", sa.String(36), nullable=True))
    op.add_column("invoice_lines", sa.Column("intervention_id", sa.String(36), nullable=True))
    op.create_index("ix_invoice_lines_intervention", "invoice_lines", ["intervention_id"])
    op.create_table(
        "interventions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("referral_id", sa.String(36), nullable=False, index=True),
        sa.Column("la_code", sa.String(16), nullable=False, index=True),
        sa.Column("team_id", sa.String(36), nullable=True),
        sa.Column("basis", sa.String(20), nullable=False),
        sa.Column("planned_weeks", sa.Integer, nullable=False),
        sa.Column("planned_start_date", sa.Date, nullable=False),
        sa.Column("start_date", sa.Date, nullable=True),
        sa.Column("end_date", sa.Date, nullable=True),
        sa.Column("billed_through", sa.Date, nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("interventions")
    op.drop_index("ix_invoice_lines_intervention", "invoice_lines")
    for table, column in (("invoice_lines", "intervention_id"), ("billing_changes", "intervention_id"),
                          ("fee_schedules", "outreach_fixed_pence"), ("fee_schedules", "outreach_weekly_pence"),
                          ("contracts", "retainer_yearly_pence"), ("contracts", "retainer_interventions")):
        op.drop_column(table, column)
