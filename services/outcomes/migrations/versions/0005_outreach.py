"""outcomes: outreach (issue 16): the referral's kind and hand-off, interventions, their sessions and follow-ups,
their invoice lines, and each council's assumed cost of a breakdown with its changes

Revision ID: outcomes_0005
"""
import sqlalchemy as sa
from alembic import op

from libs.common.types import UtcDateTime

revision = "outcomes_0005"
down_revision = "outcomes_0004"


def upgrade() -> None:
    op.add_column("referrals", sa.Column("kind", sa.String(10), nullable=True))
    op.add_column("referrals", sa.Column("handoff_from_placement_id", sa.String(36), nullable=True))
    op.create_table(
        "interventions",
        sa.Column("intervention_id", sa.String(36), primary_key=True),
        sa.Column("referral_id", sa.String(36), nullable=False),
        sa.Column("la_code", sa.String(16), nullable=False),
        sa.Column("team_id", sa.String(36), nullable=False),
        sa.Column("basis", sa.String(12), nullable=True),
        sa.Column("planned_weeks", sa.Integer, nullable=True),
        sa.Column("current_setting", sa.String(30), nullable=True),
        sa.Column("start_date", sa.Date, nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("end_date", sa.Date, nullable=True),
        sa.Column("outcome", sa.String(20), nullable=True),
        sa.Column("stabilised_on", sa.Date, nullable=True),
    )
    op.create_index("ix_interventions_referral_id", "interventions", ["referral_id"])
    op.create_index("ix_outcomes_interventions_la", "interventions", ["la_code", "start_date"])
    op.create_table(
        "intervention_sessions",
        sa.Column("session_id", sa.String(36), primary_key=True),
        sa.Column("intervention_id", sa.String(36), nullable=False),
        sa.Column("session_date", sa.Date, nullable=False),
        sa.Column("minutes", sa.Integer, nullable=False),
    )
    op.create_index("ix_intervention_sessions_intervention_id", "intervention_sessions", ["intervention_id"])
    op.create_table(
        "intervention_follow_ups",
        sa.Column("intervention_id", sa.String(36), primary_key=True),
        sa.Column("checkpoint", sa.String(10), primary_key=True),
        sa.Column("referral_id", sa.String(36), nullable=False),
        sa.Column("la_code", sa.String(16), nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("held", sa.Boolean, nullable=False),
        sa.Column("recorded_on", sa.Date, nullable=False),
        sa.Column("breakdown_date", sa.Date, nullable=True),
    )
    op.create_index("ix_outcomes_follow_ups_referral", "intervention_follow_ups", ["referral_id"])
    op.create_table(
        "outreach_lines",
        sa.Column("line_id", sa.String(36), primary_key=True),
        sa.Column("invoice_id", sa.String(36), nullable=False),
        sa.Column("la_code", sa.String(16), nullable=False),
        sa.Column("intervention_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("from_date", sa.Date, nullable=False),
        sa.Column("to_date", sa.Date, nullable=False),
        sa.Column("days", sa.Integer, nullable=False),
        sa.Column("amount_pence", sa.Integer, nullable=False),
    )
    op.create_index("ix_outreach_lines_intervention_id", "outreach_lines", ["intervention_id"])
    op.create_table(
        "outreach_settings",
        sa.Column("la_code", sa.String(16), primary_key=True),
        sa.Column("breakdown_cost_pence", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "outreach_setting_changes",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("la_code", sa.String(16), nullable=False),
        sa.Column("from_pence", sa.Integer, nullable=True),
        sa.Column("to_pence", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("changed_by", sa.String(200), nullable=False),
        sa.Column("changed_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_outreach_setting_changes_la_code", "outreach_setting_changes", ["la_code"])


def downgrade() -> None:
    for name in ("outreach_setting_changes", "outreach_settings", "outreach_lines", "intervention_follow_ups",
                 "intervention_sessions", "interventions"):
        op.drop_table(name)
    with op.batch_alter_table("referrals") as batch:
        batch.drop_column("handoff_from_placement_id")
        batch.drop_column("kind")
