"""billing: contracts, fee schedules, add-ons, placements as billing knows them, fee periods, invoices and
lines, gapless counters, home costs, the change queue, idempotent requests

Revision ID: billing_0002
"""
import sqlalchemy as sa
from alembic import op

from libs.common.http.idempotency import create_idempotency_table

revision = "billing_0002"
down_revision = "billing_0001"

TS = sa.DateTime(timezone=True)
TABLES = ("referrals", "admissions", "placements", "contracts", "fee_schedules", "add_ons", "home_costs",
          "billing_changes", "schemes", "fee_periods", "invoice_counters", "invoices", "invoice_lines")


def _tables(metadata: sa.MetaData) -> None:

    # What billing learns from events. The council's child reference comes from referral.received/updated
    # (never a name); the fee basis from admission.accepted; the stay from the placement events.
    referrals = sa.Table(
        "referrals", metadata,
        sa.Column("referral_id", sa.String(36), primary_key=True),
        sa.Column("la_code", sa.String(16), nullable=False),
        sa.Column("child_ref", sa.String(120), nullable=False),
    )

    admissions = sa.Table(
        "admissions", metadata,
        sa.Column("admission_id", sa.String(36), primary_key=True),
        sa.Column("referral_id", sa.String(36), nullable=False, index=True),
        sa.Column("home_id", sa.String(36), nullable=False),
        sa.Column("planned_start_date", sa.Date, nullable=False),
        sa.Column("fee_basis", sa.String(40), nullable=True),
    )

    # transitions: [[effective date, phase], ...]; billed_through: the last day of the last period closed
    # with this placement in it (NULL: never invoiced).
    placements = sa.Table(
        "placements", metadata,
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("referral_id", sa.String(36), nullable=False, index=True),
        sa.Column("la_code", sa.String(16), nullable=False, index=True),
        sa.Column("home_id", sa.String(36), nullable=False, index=True),
        sa.Column("fee_basis", sa.String(40), nullable=True),
        sa.Column("arrival_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date, nullable=True),
        sa.Column("transitions", sa.JSON, nullable=False),
        sa.Column("phase_ends_on", sa.Date, nullable=True),
        sa.Column("billed_through", sa.Date, nullable=True),
        sa.Column("updated_at", TS, nullable=False),
    )

    contracts = sa.Table(
        "contracts", metadata,
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("la_code", sa.String(16), nullable=False, index=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("form", sa.String(20), nullable=False),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date, nullable=True),
        sa.Column("scheme", sa.String(40), nullable=False),
        sa.Column("charge_arrival_day", sa.Boolean, nullable=False),
        sa.Column("charge_leaving_day", sa.Boolean, nullable=False),
        sa.Column("block_beds", sa.Integer, nullable=False),
        sa.Column("block_weekly_pence", sa.Integer, nullable=False),
        sa.Column("open_book", sa.JSON, nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )

    fee_schedules = sa.Table(
        "fee_schedules", metadata,
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("contract_id", sa.String(36), nullable=False, index=True),
        sa.Column("effective_from", sa.Date, nullable=False),
        sa.Column("effective_to", sa.Date, nullable=True),
        sa.Column("phase_1_weekly_pence", sa.Integer, nullable=True),
        sa.Column("phase_2_weekly_pence", sa.Integer, nullable=True),
        sa.Column("blended_weekly_pence", sa.Integer, nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )

    add_ons = sa.Table(
        "add_ons", metadata,
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("contract_id", sa.String(36), nullable=False, index=True),
        sa.Column("placement_id", sa.String(36), nullable=False, index=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("weekly_pence", sa.Integer, nullable=False),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date, nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )

    # A home's cost base, entered per month and category (viability; the open book of open-book contracts).
    home_costs = sa.Table(
        "home_costs", metadata,
        sa.Column("home_id", sa.String(36), primary_key=True),
        sa.Column("month", sa.Date, primary_key=True),
        sa.Column("category", sa.String(60), primary_key=True),
        sa.Column("amount_pence", sa.Integer, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )

    # Something changed that a closed period may have charged differently: the next close re-settles it.
    billing_changes = sa.Table(
        "billing_changes", metadata,
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("placement_id", sa.String(36), nullable=True),
        sa.Column("contract_id", sa.String(36), nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )

    # One row per period scheme, locked by a close (FOR UPDATE): closes of a scheme run one at a time.
    schemes = sa.Table(
        "schemes", metadata,
        sa.Column("scheme", sa.String(40), primary_key=True),
        sa.Column("first_start", sa.Date, nullable=True),
        sa.Column("last_closed_end", sa.Date, nullable=True),
    )

    fee_periods = sa.Table(
        "fee_periods", metadata,
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("scheme", sa.String(40), nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("closed_at", TS, nullable=False),
        sa.Column("closed_by", sa.String(120), nullable=False),
        sa.Column("unpriced", sa.JSON, nullable=False),
        sa.UniqueConstraint("scheme", "period_start", name="uq_fee_periods_scheme_start"),
    )

    # Gapless invoice numbers: one counter row per sequence, incremented under its row lock in the close.
    invoice_counters = sa.Table(
        "invoice_counters", metadata,
        sa.Column("sequence", sa.String(40), primary_key=True),
        sa.Column("last_number", sa.Integer, nullable=False),
    )

    invoices = sa.Table(
        "invoices", metadata,
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("sequence", sa.String(40), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),          # invoice | credit_note
        sa.Column("fee_period_id", sa.String(36), nullable=False, index=True),
        sa.Column("contract_id", sa.String(36), nullable=False),
        sa.Column("la_code", sa.String(16), nullable=False, index=True),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("total_pence", sa.Integer, nullable=False),
        sa.Column("issued_at", TS, nullable=False),
        sa.UniqueConstraint("sequence", "number", name="uq_invoices_sequence_number"),
        sa.UniqueConstraint("fee_period_id", "contract_id", name="uq_invoices_period_contract"),
    )

    # kind: charge | late (earlier days no invoice covered) | adjustment (refers_to an earlier line)
    invoice_lines = sa.Table(
        "invoice_lines", metadata,
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("invoice_id", sa.String(36), nullable=False, index=True),
        sa.Column("line_no", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("stream", sa.String(60), nullable=False),         # fee | add_on:<id> | block
        sa.Column("rate_key", sa.String(40), nullable=True),        # phase_1 | phase_2 | blended | add_on:<kind> | block
        sa.Column("placement_id", sa.String(36), nullable=True),
        sa.Column("child_ref", sa.String(120), nullable=True),
        sa.Column("home_id", sa.String(36), nullable=True),
        sa.Column("from_date", sa.Date, nullable=False),
        sa.Column("to_date", sa.Date, nullable=False),              # inclusive
        sa.Column("days", sa.Integer, nullable=False),
        sa.Column("weekly_pence", sa.Integer, nullable=True),
        sa.Column("amount_pence", sa.Integer, nullable=False),
        sa.Column("refers_to", sa.String(36), nullable=True),
        sa.Column("description", sa.Text, nullable=True),
    )

    sa.Index("ix_invoice_lines_placement", invoice_lines.c.placement_id, invoice_lines.c.stream)
    sa.Index("ix_invoice_lines_refers_to", invoice_lines.c.refers_to)


def upgrade() -> None:
    metadata = sa.MetaData()
    _tables(metadata)
    metadata.create_all(op.get_bind())
    create_idempotency_table(op)


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)
    op.drop_table("idempotent_requests")
