"""outcomes: read models (referrals, needs, homes, decisions, assessments, placements, fee notices), measures,
measure deadline notices, idempotent requests

Revision ID: outcomes_0002
"""
import sqlalchemy as sa
from alembic import op

from libs.common.http.idempotency import create_idempotency_table

revision = "outcomes_0002"
down_revision = "outcomes_0001"

TABLES = ("referrals", "referral_needs", "homes", "decisions", "assessments", "placements", "fee_notices",
          "measurements", "measure_notices")
# columns a later revision adds (op.add_column there): left out here, so this revision makes what it first made
LATER_COLUMNS = {"referrals": ("kind", "handoff_from_placement_id")}  # outcomes_0005


def upgrade() -> None:
    # The tables as first shipped (services/outcomes/tables.py at this revision); a later change to a table
    # gets its own revision with op.add_column and friends.
    from services.outcomes.tables import metadata as current
    metadata = sa.MetaData()
    for name in TABLES:
        table = current.tables[name].to_metadata(metadata, schema=None)
        for column in LATER_COLUMNS.get(name, ()):
            table._columns.remove(table.c[column])
    metadata.create_all(op.get_bind())
    create_idempotency_table(op)


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)
    op.drop_table("idempotent_requests")
