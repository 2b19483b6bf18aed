"""matching: outreach (issue 16): the outreach fields of the referrals read model, outreach teams, their open
caseload (one row per accepted outreach referral until its intervention closes), and an outreach decision's team,
basis and weeks on the admission

Revision ID: matching_0007
"""
import sqlalchemy as sa
from alembic import op

revision = "matching_0007"
down_revision = "matching_0006"


def upgrade() -> None:
    with op.batch_alter_table("referrals") as batch:
        batch.add_column(sa.Column("kind", sa.String(10), nullable=False, server_default="bed"))
        batch.add_column(sa.Column("current_setting", sa.String(30), nullable=True))
        batch.add_column(sa.Column("at_risk", sa.JSON, nullable=True))
        batch.add_column(sa.Column("outreach_basis", sa.String(10), nullable=True))
        batch.add_column(sa.Column("outreach_planned_weeks", sa.Integer, nullable=True))
    with op.batch_alter_table("admissions") as batch:
        batch.add_column(sa.Column("team_id", sa.String(36), nullable=True))
        batch.add_column(sa.Column("outreach_basis", sa.String(10), nullable=True))
        batch.add_column(sa.Column("planned_weeks", sa.Integer, nullable=True))
    op.create_table(
        "outreach_teams",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("region", sa.String(40), nullable=False),
        sa.Column("base_postcode_district", sa.String(4), nullable=False),
        sa.Column("practitioners", sa.Integer, nullable=False),
        sa.Column("caseload_limit", sa.Integer, nullable=False),
        sa.Column("caseload", sa.Integer, nullable=False),
        sa.Column("specialisms", sa.JSON, nullable=False),
        sa.Column("reach_miles", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_outreach_teams_region", "outreach_teams", ["region"])
    op.create_table(
        "outreach_caseload",
        sa.Column("admission_id", sa.String(36), primary_key=True),
        sa.Column("team_id", sa.String(36), nullable=False),
        sa.Column("referral_id", sa.String(36), nullable=False),
        sa.Column("la_code", sa.String(16), nullable=False),
        sa.Column("basis", sa.String(10), nullable=False),
        sa.Column("planned_weeks", sa.Integer, nullable=False),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("intervention_id", sa.String(36), nullable=True),
        sa.Column("outcome", sa.String(20), nullable=True),
    )
    op.create_index("ix_outreach_caseload_team_id", "outreach_caseload", ["team_id"])
    op.create_index("uq_outreach_caseload_referral", "outreach_caseload", ["referral_id"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_outreach_caseload_referral", "outreach_caseload")
    op.drop_index("ix_outreach_caseload_team_id", "outreach_caseload")
    op.drop_table("outreach_caseload")
    op.drop_index("ix_outreach_teams_region", "outreach_teams")
    op.drop_table("outreach_teams")
    with op.batch_alter_table("admissions") as batch:
        for column in ("planned_weeks", "outreach_basis", "team_id"):
            batch.drop_column(column)
    with op.batch_alter_table("referrals") as batch:
        for column in ("outreach_planned_weeks", "outreach_basis", "at_risk", "current_setting", "kind"):
            batch.drop_column(column)
