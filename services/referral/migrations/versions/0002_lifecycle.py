"""referral: lifecycle (summary, social worker, decision), idempotency keys, list indexes

Revision ID: referral_0002
"""
import sqlalchemy as sa
from alembic import op

revision = "referral_0002"
down_revision = "referral_0001"


def upgrade() -> None:
    with op.batch_alter_table("referrals") as batch:
        batch.add_column(sa.Column("summary", sa.Text, nullable=True))
        batch.add_column(sa.Column("social_worker", sa.JSON, nullable=True))
        batch.add_column(sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("decision_reason", sa.String(40), nullable=True))
        batch.add_column(sa.Column("admission_id", sa.String(36), nullable=True))
    op.create_index("ix_referrals_received", "referrals", ["received_at", "id"])
    op.create_index("ix_referrals_status", "referrals", ["status"])
    op.create_table(
        "idempotency_keys",
        sa.Column("la_code", sa.String(16), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("body_sha256", sa.String(64), nullable=False),
        sa.Column("referral_id", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("la_code", "key", name="uq_idempotency_keys_la_key"),
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_index("ix_referrals_status", "referrals")
    op.drop_index("ix_referrals_received", "referrals")
    with op.batch_alter_table("referrals") as batch:
        for column in ("admission_id", "decision_reason", "decided_at", "social_worker", "summary"):
            batch.drop_column(column)
