"""assessment: outreach interventions, their sessions and follow-up checks (issue 16)

Revision ID: assessment_0006
"""
import sqlalchemy as sa
from alembic import op

revision = "assessment_0006"
down_revision = "assessment_0005"

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("children", sa.Column("current_setting", sa.String(40), nullable=True))
    op.add_column("children", sa.Column("handoff_from_placement_id", sa.String(36), nullable=True))
    op.create_table(
        "interventions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("admission_id", sa.String(36), nullable=False, unique=True),
        sa.Column("referral_id", sa.String(36), nullable=False, index=True),
        sa.Column("la_code", sa.String(16), nullable=False, index=True),
        sa.Column("team_id", sa.String(36), nullable=False, index=True),
        sa.Column("region", sa.String(60), nullable=True),
        sa.Column("basis", sa.String(20), nullable=False),
        sa.Column("planned_weeks", sa.Integer, nullable=False),
        sa.Column("planned_start_date", sa.Date, nullable=False),
        sa.Column("current_setting", sa.String(40), nullable=True),
        sa.Column("handoff_from_placement_id", sa.String(36), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("start_date", sa.Date, nullable=True),
        sa.Column("stepping_down_on", sa.Date, nullable=True),
        sa.Column("end_date", sa.Date, nullable=True),
        sa.Column("outcome", sa.String(20), nullable=True),
        sa.Column("stabilised_on", sa.Date, nullable=True),
        sa.Column("plan", sa.JSON, nullable=False),
        sa.Column("plan_version", sa.Integer, nullable=False),
        sa.Column("plan_versions", sa.JSON, nullable=False),
        sa.Column("history", sa.JSON, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "intervention_sessions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("intervention_id", sa.String(36), nullable=False, index=True),
        sa.Column("session_date", sa.Date, nullable=False),
        sa.Column("minutes", sa.Integer, nullable=False),
        sa.Column("with_whom", sa.JSON, nullable=False),
        sa.Column("recorded_by", sa.String(120), nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
    )
    op.create_table(
        "intervention_follow_ups",
        sa.Column("intervention_id", sa.String(36), primary_key=True),
        sa.Column("checkpoint", sa.String(10), primary_key=True),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("held", sa.Boolean, nullable=False),
        sa.Column("recorded_on", sa.Date, nullable=False),
        sa.Column("breakdown_date", sa.Date, nullable=True),
        sa.Column("recorded_by", sa.String(120), nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
    )


def downgrade() -> None:
    for table in ("intervention_follow_ups", "intervention_sessions", "interventions"):
        op.drop_table(table)
    for column in ("handoff_from_placement_id", "current_setting"):
        op.drop_column("children", column)
