"""assessment: SSDA903 episodes (the home's URN and postcode, the first episode's reason, legal status changes
on placements; the children's coded facts from the referral events)

Revision ID: assessment_0005
"""
import sqlalchemy as sa
from alembic import op



revision = "assessment_0005"
down_revision = "assessment_0004"


def upgrade() -> None:
    op.add_column("placements", sa.Column("home_urn", sa.String(8), nullable=True))
    op.add_column("placements", sa.Column("home_postcode", sa.String(10), nullable=True))
    op.add_column("placements", sa.Column("reason_new_episode", sa.String(1), nullable=True))
    op.add_column("placements", sa.Column("legal_statuses", sa.JSON, nullable=True))
    op.create_table(
        "children",
        sa.Column("referral_id", sa.String(36), primary_key=True),
        sa.Column("la_code", sa.String(16), nullable=False, index=True),
        sa.Column("child_ref", sa.String(64), nullable=False),
        sa.Column("date_of_birth", sa.Date, nullable=False),
        sa.Column("sex", sa.String(10), nullable=False),
        sa.Column("legal_status", sa.String(4), nullable=True),
        sa.Column("category_of_need", sa.String(2), nullable=True),
        sa.Column("home_outward_code", sa.String(8), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("children")
    for column in ("legal_statuses", "reason_new_episode", "home_postcode", "home_urn"):
        op.drop_column("placements", column)
