"""outcomes: refinements of issue 13: the invoice's contract on each child's line, block contract lines
(contract_lines), and corrections of wrongly recorded measures (measure_corrections)

Revision ID: outcomes_0004
"""
import sqlalchemy as sa
from alembic import op

from libs.common.types import UtcDateTime

revision = "outcomes_0004"
down_revision = "outcomes_0003"


def upgrade() -> None:
    op.add_column("invoice_lines", sa.Column("contract_id", sa.String(36), nullable=True))
    op.create_table(
        "contract_lines",
        sa.Column("line_id", sa.String(36), primary_key=True),
        sa.Column("invoice_id", sa.String(36), nullable=False),
        sa.Column("contract_id", sa.String(36), nullable=False),
        sa.Column("la_code", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("stream", sa.String(60), nullable=False),
        sa.Column("from_day", sa.Integer, nullable=False),
        sa.Column("to_day", sa.Integer, nullable=False),
        sa.Column("days", sa.Integer, nullable=False),
        sa.Column("weekly_pence", sa.Integer, nullable=True),
        sa.Column("amount_pence", sa.Integer, nullable=False),
    )
    op.create_index("ix_outcomes_contract_lines_la_day", "contract_lines", ["la_code", "from_day"])
    op.create_table(
        "measure_corrections",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("measurement_id", sa.String(36), nullable=False),
        sa.Column("placement_id", sa.String(36), nullable=False),
        sa.Column("timepoint", sa.String(30), nullable=False),
        sa.Column("measure_group", sa.String(20), nullable=False),
        sa.Column("previous", sa.JSON, nullable=True),
        sa.Column("corrected", sa.JSON, nullable=False),
        sa.Column("reason_code", sa.String(40), nullable=False),
        sa.Column("corrected_by", sa.String(200), nullable=False),
        sa.Column("corrected_at", UtcDateTime(), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_measure_corrections_measurement_id", "measure_corrections", ["measurement_id"])
    op.create_index("ix_measure_corrections_placement_id", "measure_corrections", ["placement_id"])
    _outside_own_council()


def _outside_own_council() -> None:
    """placements.outside_area meant "another postcode area" before this revision; it now means outside the
    child's own council (the home's district's council against the placement's la_code): recomputed here."""
    from libs.common.councils import outside_own_council
    bind = op.get_bind()
    placements = sa.table("placements", sa.column("placement_id"), sa.column("la_code"), sa.column("home_id"),
                          sa.column("outside_area"))
    homes = sa.table("homes", sa.column("home_id"), sa.column("postcode_district"))
    rows = bind.execute(sa.select(placements.c.placement_id, placements.c.la_code, homes.c.postcode_district)
                        .select_from(placements.join(homes, homes.c.home_id == placements.c.home_id))).all()
    for placement_id, la_code, district in rows:
        bind.execute(sa.update(placements).where(placements.c.placement_id == placement_id)
                     .values(outside_area=outside_own_council(la_code, district)))


def downgrade() -> None:
    op.drop_index("ix_measure_corrections_placement_id", table_name="measure_corrections")
    op.drop_index("ix_measure_corrections_measurement_id", table_name="measure_corrections")
    op.drop_table("measure_corrections")
    op.drop_index("ix_outcomes_contract_lines_la_day", table_name="contract_lines")
    op.drop_table("contract_lines")
    with op.batch_alter_table("invoice_lines") as batch:
        batch.drop_column("contract_id")
