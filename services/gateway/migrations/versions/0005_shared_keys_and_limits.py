"""gateway: signing keys and rate-limit buckets in the database, shared by every gateway replica

Revision ID: gateway_0005
"""
import sqlalchemy as sa
from alembic import op

revision = "gateway_0005"
down_revision = "gateway_0004"


def upgrade() -> None:
    op.create_table(
        "signing_keys",
        sa.Column("kid", sa.String(32), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("active_slot", sa.Integer, nullable=True),
        sa.Column("private_pem", sa.Text, nullable=True),
        sa.Column("public_jwk", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signing_ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verify_until", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("active_slot", name="uq_signing_keys_one_active"),
    )
    op.create_table(
        "rate_limit_buckets",
        sa.Column("bucket", sa.String(200), primary_key=True),
        sa.Column("tokens", sa.Float, nullable=False),
        sa.Column("updated", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rate_limit_buckets")
    op.drop_table("signing_keys")
