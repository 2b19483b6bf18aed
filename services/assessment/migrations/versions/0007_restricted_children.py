"""assessment: restrictions of processing (issue 15, docs/decisions/0006-retention.md): the service's copy of the
restrictions in force on a child's record (from referral.restricted and referral.restriction_lifted), so its
reads answer a council 451 for a restricted child and serve the hub the record marked

Revision ID: assessment_0007
"""
from alembic import op

from libs.common.restrictions import RESTRICTED_TABLE, create_restricted_children_table

revision = "assessment_0007"
down_revision = "assessment_0006"


def upgrade() -> None:
    create_restricted_children_table(op)


def downgrade() -> None:
    # the restrictions are part of the record: a downgrade keeps them (see 0006-retention.md)
    op.rename_table(RESTRICTED_TABLE, RESTRICTED_TABLE + "_kept")
