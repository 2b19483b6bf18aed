"""gateway: restrictions of processing reach councils' webhooks (docs/decisions/0006-retention.md): the gateway's
copy of the restrictions in force (from referral.restricted and referral.restriction_lifted), the links from a
placement or intervention to the child's record, and a delivery's child and why it was withheld

Revision ID: gateway_0006
"""
import sqlalchemy as sa
from alembic import op

from libs.common.restrictions import RESTRICTED_TABLE, create_restricted_children_table

revision = "gateway_0006"
down_revision = "gateway_0005"


def upgrade() -> None:
    create_restricted_children_table(op)
    op.create_table(
        "child_record_links",
        sa.Column("record_id", sa.String(36), primary_key=True),
        sa.Column("referral_id", sa.String(36), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.add_column("webhook_deliveries", sa.Column("referral_id", sa.String(36), nullable=True))
    op.add_column("webhook_deliveries", sa.Column("withheld_reason", sa.String(30), nullable=True))
    op.add_column("webhook_deliveries", sa.Column("restriction_id", sa.String(36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.drop_column("restriction_id")
        batch.drop_column("withheld_reason")
        batch.drop_column("referral_id")
    op.drop_table("child_record_links")
    # the restrictions are part of the record: a downgrade keeps them (see 0006-retention.md)
    op.rename_table(RESTRICTED_TABLE, RESTRICTED_TABLE + "_kept")
