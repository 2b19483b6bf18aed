"""matching: the Placements Data Standard and the split risk vocabulary (issue 12): a home's pets, acceptance of
Deprivation of Liberty orders, communication support and adaptation; a referral's placement requirements; and
exploitation_risk split into sexual_exploitation_risk and criminal_exploitation_risk in the referrals read model

Revision ID: matching_0006
"""
import sqlalchemy as sa
from alembic import op

revision = "matching_0006"
down_revision = "matching_0005"

OLD, NEW = "exploitation_risk", ("sexual_exploitation_risk", "criminal_exploitation_risk")


def split(items):
    """exploitation_risk replaced by both codes it was split into (same severity; a code already listed keeps its
    own); None when the list has no exploitation_risk. The migration's own copy of the rule: it never changes."""
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
    with op.batch_alter_table("homes") as batch:
        batch.add_column(sa.Column("pets", sa.Boolean, nullable=False, server_default=sa.text("false")))
        batch.add_column(sa.Column("accepts_deprivation_of_liberty", sa.Boolean, nullable=False,
                                   server_default=sa.text("false")))
        batch.add_column(sa.Column("communication_support", sa.JSON, nullable=False, server_default=sa.text("'[]'")))
        batch.add_column(sa.Column("adapted", sa.Boolean, nullable=False, server_default=sa.text("false")))
    with op.batch_alter_table("referrals") as batch:
        batch.add_column(sa.Column("requirements", sa.JSON, nullable=True))
    referrals = sa.table("referrals", sa.column("id", sa.String), sa.column("needs", sa.JSON),
                         sa.column("risks", sa.JSON))
    bind = op.get_bind()
    like = sa.cast(referrals.c.needs, sa.Text).like(f'%"{OLD}"%') | sa.cast(referrals.c.risks, sa.Text).like(f'%"{OLD}"%')
    changed = False
    for row in bind.execute(sa.select(referrals.c.id, referrals.c.needs, referrals.c.risks).where(like)).all():
        values = {k: v for k, v in (("needs", split(row.needs)), ("risks", split(row.risks))) if v is not None}
        if values:
            bind.execute(referrals.update().where(referrals.c.id == row.id).values(**values))
            changed = True
    if changed:  # every replica's homes snapshot holds the residents' old codes: make it stale
        bind.execute(sa.text("UPDATE matching_state SET homes_version = homes_version + 1"))


def downgrade() -> None:
    with op.batch_alter_table("referrals") as batch:
        batch.drop_column("requirements")
    with op.batch_alter_table("homes") as batch:
        for column in ("adapted", "communication_support", "accepts_deprivation_of_liberty", "pets"):
            batch.drop_column(column)
