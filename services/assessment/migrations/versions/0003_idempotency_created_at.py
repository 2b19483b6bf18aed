"""assessment: idempotent_requests takes the toolkit's shape (an index on created_at, for the purge job)

Revision ID: assessment_0003
"""
from alembic import op

revision = "assessment_0003"
down_revision = "assessment_0002"


def upgrade() -> None:
    op.create_index("ix_idempotent_requests_created_at", "idempotent_requests", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_idempotent_requests_created_at", "idempotent_requests")
