"""matching: the registered manager's work contact on a home (shown to councils with a child there)

Revision ID: matching_0005
"""
import sqlalchemy as sa
from alembic import op

revision = "matching_0005"
down_revision = "matching_0004"


def upgrade() -> None:
    with op.batch_alter_table("homes") as batch:
        batch.add_column(sa.Column("registered_manager_email", sa.String(254), nullable=True))
        batch.add_column(sa.Column("registered_manager_phone", sa.String(20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("homes") as batch:
        batch.drop_column("registered_manager_phone")
        batch.drop_column("registered_manager_email")
