"""referral: the Placements Data Standard (issue 12): no_known_risks and placement_request; exploitation_risk split
into sexual_exploitation_risk and criminal_exploitation_risk in every stored referral

Revision ID: referral_0005
"""
import sqlalchemy as sa
from alembic import op

revision = "referral_0005"
down_revision = "referral_0004"

OLD, NEW = "exploitation_risk", ("sexual_exploitation_risk", "criminal_exploitation_risk")


def split(items):
    """A needs or risks list with exploitation_risk replaced by both codes it was split into (same severity; a code
    already listed keeps its own). The migration keeps its own copy of the rule: it must not change later."""
    if not items or not any(i.get("code") == OLD for i in items):
        return None
    listed, out = {i.get("code") for i in items}, []
    for item in items:
        if item.get("code") != OLD:
            out.append(item)
            continue
        for code in NEW:
            if code not in listed:
                listed.add(code)
                out.append({**item, "code": code})
    return out


def upgrade() -> None:
    with op.batch_alter_table("referrals") as batch:
        batch.add_column(sa.Column("no_known_risks", sa.JSON, nullable=True))
        batch.add_column(sa.Column("placement_request", sa.JSON, nullable=True))
    referrals = sa.table("referrals", sa.column("id", sa.String), sa.column("needs", sa.JSON),
                         sa.column("risks", sa.JSON))
    bind = op.get_bind()
    like = sa.cast(referrals.c.needs, sa.Text).like(f'%"{OLD}"%') | sa.cast(referrals.c.risks, sa.Text).like(f'%"{OLD}"%')
    for row in bind.execute(sa.select(referrals.c.id, referrals.c.needs, referrals.c.risks).where(like)).all():
        needs, risks = split(row.needs), split(row.risks)
        values = {k: v for k, v in (("needs", needs), ("risks", risks)) if v is not None}
        if values:
            bind.execute(referrals.update().where(referrals.c.id == row.id).values(**values))


def downgrade() -> None:
    with op.batch_alter_table("referrals") as batch:
        batch.drop_column("placement_request")
        batch.drop_column("no_known_risks")
