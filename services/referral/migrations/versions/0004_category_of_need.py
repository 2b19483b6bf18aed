"""referral: category_of_need (SSDA903 CIN); sex may now be unknown (the column already fits it)

Revision ID: referral_0004
"""
import sqlalchemy as sa
from alembic import op

revision = "referral_0004"
down_revision = "referral_0003"


def upgrade() -> None:
    op.add_column("referrals", sa.Column("category_of_need", sa.String(2), nullable=True))


def downgrade() -> None:
    op.drop_column("referrals", "category_of_need")
