from sqlalchemy import JSON, Boolean, Column, Date, Index, Integer, String, Table, Text, UniqueConstraint

from libs.common.http import idempotency_table
from libs.common.restrictions import restricted_children_table
from libs.common.runtime import build_metadata
from libs.common.types import UtcDateTime

metadata = build_metadata()
idempotent_requests = idempotency_table(metadata)

# What billing learns from events. The council's child reference comes from referral.received/updated
# (never a name); the fee basis from admission.accepted; the stay from the placement events.
referrals = Table(
    "referrals", metadata,
    Column("referral_id", String(36), primary_key=True),
    Column("la_code", String(16), nullable=False),
    Column("child_ref", String(120), nullable=False),
)

admissions = Table(
    "admissions", metadata,
    Column("admission_id", String(36), primary_key=True),
    Column("referral_id", String(36), nullable=False, index=True),
    Column("home_id", String(36), nullable=False),
    Column("planned_start_date", Date, nullable=False),
    Column("fee_basis", String(40), nullable=True),
)

# transitions: [[effective date, phase], ...]; billed_through: the last day of the first period closed
# with this placement in it (NULL: never invoiced).
placements = Table(
    "placements", metadata,
    Column("id", String(36), primary_key=True),
    Column("referral_id", String(36), nullable=False, index=True),
    Column("la_code", String(16), nullable=False, index=True),
    Column("home_id", String(36), nullable=False, index=True),
    Column("fee_basis", String(40), nullable=True),
    Column("arrival_date", Date, nullable=False),
    Column("end_date", Date, nullable=True),
    Column("transitions", JSON, nullable=False),
    Column("phase_ends_on", Date, nullable=True),
    Column("billed_through", Date, nullable=True),   # set once, at the first close that invoices it
    Column("updated_at", UtcDateTime(), nullable=False),
)

contracts = Table(
    "contracts", metadata,
    Column("id", String(36), primary_key=True),
    Column("la_code", String(16), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("form", String(20), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=True),
    Column("scheme", String(40), nullable=False),
    Column("charge_arrival_day", Boolean, nullable=False),
    Column("charge_leaving_day", Boolean, nullable=False),
    Column("block_beds", Integer, nullable=False),
    Column("block_weekly_pence", Integer, nullable=False),
    Column("open_book", JSON, nullable=True),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    # 0004 (outreach, issue 16): a yearly retainer for N interventions per contract year at a yearly fee
    Column("retainer_interventions", Integer, nullable=True),
    Column("retainer_yearly_pence", Integer, nullable=True),
)

fee_schedules = Table(
    "fee_schedules", metadata,
    Column("id", String(36), primary_key=True),
    Column("contract_id", String(36), nullable=False, index=True),
    Column("effective_from", Date, nullable=False),
    Column("effective_to", Date, nullable=True),
    Column("phase_1_weekly_pence", Integer, nullable=True),
    Column("phase_2_weekly_pence", Integer, nullable=True),
    Column("blended_weekly_pence", Integer, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    # 0004: outreach rates from the same effective date: weekly outreach, and the fixed fee per intervention
    Column("outreach_weekly_pence", Integer, nullable=True),
    Column("outreach_fixed_pence", Integer, nullable=True),
)

add_ons = Table(
    "add_ons", metadata,
    Column("id", String(36), primary_key=True),
    Column("contract_id", String(36), nullable=False, index=True),
    Column("placement_id", String(36), nullable=False, index=True),
    Column("kind", String(20), nullable=False),
    Column("weekly_pence", Integer, nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
)

# A home's cost base, entered per month and category (viability; the open book of open-book contracts).
home_costs = Table(
    "home_costs", metadata,
    Column("home_id", String(36), primary_key=True),
    Column("month", Date, primary_key=True),
    Column("category", String(60), primary_key=True),
    Column("amount_pence", Integer, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

# Something changed that a closed period may have charged differently: the next close re-settles it.
billing_changes = Table(
    "billing_changes", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("placement_id", String(36), nullable=True),
    Column("contract_id", String(36), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("intervention_id", String(36), nullable=True),   # 0004: an outreach intervention changed
)

# One row per period scheme, locked by a close (FOR UPDATE): closes of a scheme run one at a time.
schemes = Table(
    "schemes", metadata,
    Column("scheme", String(40), primary_key=True),
    Column("first_start", Date, nullable=True),
    Column("last_closed_end", Date, nullable=True),
)

fee_periods = Table(
    "fee_periods", metadata,
    Column("id", String(36), primary_key=True),
    Column("scheme", String(40), nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("closed_at", UtcDateTime(), nullable=False),
    Column("closed_by", String(120), nullable=False),
    Column("unpriced", JSON, nullable=False),
    UniqueConstraint("scheme", "period_start", name="uq_fee_periods_scheme_start"),
)

# Gapless invoice numbers: one counter row per sequence, incremented under its row lock in the close.
invoice_counters = Table(
    "invoice_counters", metadata,
    Column("sequence", String(40), primary_key=True),
    Column("last_number", Integer, nullable=False),
)

invoices = Table(
    "invoices", metadata,
    Column("id", String(36), primary_key=True),
    Column("sequence", String(40), nullable=False),
    Column("number", Integer, nullable=False),
    Column("kind", String(20), nullable=False),          # invoice | credit_note
    Column("fee_period_id", String(36), nullable=False, index=True),
    Column("contract_id", String(36), nullable=False),
    Column("la_code", String(16), nullable=False, index=True),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("total_pence", Integer, nullable=False),
    Column("issued_at", UtcDateTime(), nullable=False),
    UniqueConstraint("sequence", "number", name="uq_invoices_sequence_number"),
    UniqueConstraint("fee_period_id", "contract_id", name="uq_invoices_period_contract"),
)

# kind: charge | late (earlier days no invoice covered) | adjustment (refers_to an earlier line)
invoice_lines = Table(
    "invoice_lines", metadata,
    Column("id", String(36), primary_key=True),
    Column("invoice_id", String(36), nullable=False, index=True),
    Column("line_no", Integer, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("stream", String(60), nullable=False),         # fee | add_on:<id> | block
    Column("rate_key", String(40), nullable=True),        # phase_1 | phase_2 | blended | add_on:<kind> | block
    Column("placement_id", String(36), nullable=True),
    Column("child_ref", String(120), nullable=True),
    Column("home_id", String(36), nullable=True),
    Column("from_date", Date, nullable=False),
    Column("to_date", Date, nullable=False),              # inclusive
    Column("days", Integer, nullable=False),
    Column("weekly_pence", Integer, nullable=True),
    Column("amount_pence", Integer, nullable=False),
    Column("refers_to", String(36), nullable=True),
    Column("description", Text, nullable=True),
    Column("intervention_id", String(36), nullable=True),   # 0004: stream "outreach": the intervention
)

Index("ix_invoice_lines_placement", invoice_lines.c.placement_id, invoice_lines.c.stream)
Index("ix_invoice_lines_refers_to", invoice_lines.c.refers_to)
Index("ix_invoice_lines_intervention", invoice_lines.c.intervention_id)

# The weekly fee last told to the other services per child (referral): placement.fee_applied is emitted when
# what applies differs from this row (sequence: the notice's number, so consumers keep the newest).
fee_notices = Table(
    "fee_notices", metadata,
    Column("referral_id", String(36), primary_key=True),
    Column("la_code", String(16), nullable=False, index=True),
    Column("admission_id", String(36), nullable=True),
    Column("placement_id", String(36), nullable=True),
    Column("home_id", String(36), nullable=True),
    Column("start_date", Date, nullable=False),           # planned start, then the arrival day
    Column("end_date", Date, nullable=True),              # the leaving day, once known
    Column("contract_id", String(36), nullable=True),
    Column("weekly_pence", Integer, nullable=True),
    Column("basis", String(20), nullable=True),
    Column("effective_date", Date, nullable=True),
    Column("sequence", Integer, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)


# 0004 (issue 16): outreach interventions, from outreach.accepted and intervention.started (the basis, the planned
# weeks), intervention.status_changed (to active: the start charged from) and intervention.closed (the end).
# billed_through: the last day of the first period closed that charged it (NULL: never invoiced).
interventions = Table(
    "interventions", metadata,
    Column("id", String(36), primary_key=True),
    Column("referral_id", String(36), nullable=False, index=True),
    Column("la_code", String(16), nullable=False, index=True),
    Column("team_id", String(36), nullable=True),
    Column("basis", String(20), nullable=False),            # fixed_fee | weekly
    Column("planned_weeks", Integer, nullable=False),
    Column("planned_start_date", Date, nullable=False),
    Column("start_date", Date, nullable=True),
    Column("end_date", Date, nullable=True),
    Column("billed_through", Date, nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
)

# restrictions of processing in force on a child's record (decision 0006; libs.common.restrictions): councils'
# reads of the child answer 451, the hub's carry a marker
restricted_children = restricted_children_table(metadata)
