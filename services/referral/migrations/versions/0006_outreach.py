"""referral: outreach referrals (issue 16): kind, current setting, what is at risk, basis and weeks, the
step-down handoff's placement, and each accepted bed referral's placement id (to find the child a handoff
names)

Revision ID: referral_0006
"""
import sqlalchemy as sa
from alembic import op

from libs.common.ids import placement_id_for

revision = "referral_0006"
down_revision = "referral_0005"


def upgrade() -> None:
    with op.batch_alter_table("referrals") as batch:
        batch.add_column(sa.Column("kind", sa.String(10), nullable=False, server_default="bed"))
        batch.add_column(sa.Column("current_setting", sa.String(30), nullable=True))
        batch.add_column(sa.Column("at_risk", sa.JSON, nullable=True))
        batch.add_column(sa.Column("outreach_basis", sa.String(10), nullable=True))
        batch.add_column(sa.Column("outreach_planned_weeks", sa.Integer, nullable=True))
        batch.add_column(sa.Column("handoff_from_placement_id", sa.String(36), nullable=True))
        batch.add_column(sa.Column("placement_id", sa.String(36), nullable=True))
    # an accepted bed referral's placement: the id assessment derives from the admission (libs/common/ids.py)
    referrals = sa.table("referrals", sa.column("id", sa.String), sa.column("status", sa.String),
                         sa.column("admission_id", sa.String), sa.column("placement_id", sa.String))
    bind = op.get_bind()
    rows = bind.execute(sa.select(referrals.c.id, referrals.c.admission_id).where(
        referrals.c.status == "accepted", referrals.c.admission_id.isnot(None))).all()
    for row in rows:
        bind.execute(referrals.update().where(referrals.c.id == row.id)
                     .values(placement_id=placement_id_for(row.admission_id)))
    op.create_index("ix_referrals_placement", "referrals", ["placement_id"])
    # one outreach referral per step-down handoff, whatever the event's redelivery
    op.create_index("uq_referrals_handoff", "referrals", ["handoff_from_placement_id"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_referrals_handoff", "referrals")
    op.drop_index("ix_referrals_placement", "referrals")
    with op.batch_alter_table("referrals") as batch:
        for column in ("placement_id", "handoff_from_placement_id", "outreach_planned_weeks", "outreach_basis",
                       "at_risk", "current_setting", "kind"):
            batch.drop_column(column)
