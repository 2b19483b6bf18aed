"""referral: the standard idempotency store (idempotent_requests) replaces idempotency_keys

Revision ID: referral_0003

The old keys are not carried over (the new store keeps the whole first response, which the old one did not
have, and keys are now the client's, not the council's): a client retrying across the upgrade a request
that succeeded before it makes a second referral. Keys are a retry window (24 h), so deploy when no
council is retrying, or accept that the hub may see a duplicate to withdraw.
"""
import sqlalchemy as sa
from alembic import op

from libs.common.http.idempotency import IDEMPOTENCY_TABLE, create_idempotency_table

revision = "referral_0003"
down_revision = "referral_0002"


def upgrade() -> None:
    create_idempotency_table(op)
    op.drop_table("idempotency_keys")


def downgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("la_code", sa.String(16), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("body_sha256", sa.String(64), nullable=False),
        sa.Column("referral_id", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("la_code", "key", name="uq_idempotency_keys_la_key"),
    )
    op.drop_table(IDEMPOTENCY_TABLE)
