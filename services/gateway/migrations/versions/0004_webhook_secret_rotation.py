"""gateway: a webhook endpoint keeps its previous secret for a grace period after a rotation

Revision ID: gateway_0004
"""
import sqlalchemy as sa
from alembic import op

revision = "gateway_0004"
down_revision = "gateway_0003"


def upgrade() -> None:
    with op.batch_alter_table("webhook_endpoints") as batch:
        batch.add_column(sa.Column("previous_secret", sa.String(200), nullable=True))
        batch.add_column(sa.Column("previous_secret_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("webhook_endpoints") as batch:
        batch.drop_column("previous_secret_until")
        batch.drop_column("previous_secret")
