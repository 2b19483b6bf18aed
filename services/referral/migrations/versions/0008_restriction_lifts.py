"""referral: who lifted a restriction of processing (issue 15, docs/decisions/0006-retention.md): lifting is a
recorded act (lifted_at and lifted_by), never a deletion

Revision ID: referral_0008
"""
import sqlalchemy as sa
from alembic import op

revision = "referral_0008"
down_revision = "referral_0007"


def upgrade() -> None:
    op.add_column("restrictions", sa.Column("lifted_by", sa.String(120), nullable=True))


def downgrade() -> None:
    # who lifted a restriction is part of the record: a downgrade keeps the column (see 0006-retention.md)
    pass
