"""The outcomes service's tables. Read models kept from other services' events (never fetched from them),
the measures it records, and the deadline notices it sent. Dates that reports subtract are also kept as day
numbers (date.toordinal()) so the same SQL runs on Postgres and SQLite."""
from sqlalchemy import JSON, Boolean, Column, Date, Float, Index, Integer, String, Table, UniqueConstraint

from libs.common.http import idempotency_table
from libs.common.restrictions import restricted_children_table
from libs.common.runtime import build_metadata
from libs.common.types import UtcDateTime

metadata = build_metadata()
idempotent_requests = idempotency_table(metadata)

# referral.received / updated / withdrawn: the council's child reference (never a name), the child's home
# area (outward code) and the needs, for the sufficiency report and step-downs holding.
referrals = Table(
    "referrals", metadata,
    Column("referral_id", String(36), primary_key=True),
    Column("la_code", String(16), nullable=False),
    Column("child_ref", String(120), nullable=False),
    Column("home_outward_code", String(8), nullable=True),
    Column("urgency", String(12), nullable=True),
    Column("received_on", Date, nullable=False),
    Column("received_day", Integer, nullable=False),
    Column("received_hours", Float, nullable=False),
    Column("withdrawn", Boolean, nullable=False, default=False),
    Column("kind", String(10), nullable=True),            # bed | outreach (0005; null: bed, sent before)
    Column("handoff_from_placement_id", String(36), nullable=True),  # outreach after a step-down (0005)
)
Index("ix_outcomes_referrals_la_day", referrals.c.la_code, referrals.c.received_day)
Index("ix_outcomes_referrals_day", referrals.c.received_day)
Index("ix_outcomes_referrals_child", referrals.c.la_code, referrals.c.child_ref)

referral_needs = Table(
    "referral_needs", metadata,
    Column("referral_id", String(36), primary_key=True),
    Column("need_code", String(60), primary_key=True),
    Column("la_code", String(16), nullable=False),
    Column("received_day", Integer, nullable=False),
)
Index("ix_outcomes_needs_day", referral_needs.c.received_day, referral_needs.c.la_code)

# home.onboarded
homes = Table(
    "homes", metadata,
    Column("home_id", String(36), primary_key=True),
    Column("postcode_district", String(8), nullable=True),
    Column("registered_places", Integer, nullable=False),
)

# admission.accepted / declined; received_day copied from the referral (whichever event comes last fills it)
decisions = Table(
    "decisions", metadata,
    Column("admission_id", String(36), primary_key=True),
    Column("referral_id", String(36), nullable=False, index=True),
    Column("la_code", String(16), nullable=False),
    Column("decision", String(10), nullable=False),       # accepted | declined
    Column("reason_code", String(40), nullable=True),
    Column("home_id", String(36), nullable=True),
    Column("decided_day", Integer, nullable=False),
    Column("decided_hours", Float, nullable=False),       # hours since the epoch, for time to decision
    Column("received_hours", Float, nullable=True),
)
Index("ix_outcomes_decisions_la_day", decisions.c.la_code, decisions.c.decided_day)
Index("ix_outcomes_decisions_day", decisions.c.decided_day)

# impact_risk.assessed (and its deprecated alias match.assessed): how many homes were considered and ranked
assessments = Table(
    "assessments", metadata,
    Column("referral_id", String(36), primary_key=True),
    Column("la_code", String(16), nullable=False),
    Column("homes_considered", Integer, nullable=False),
    Column("homes_ranked", Integer, nullable=False),
    Column("assessed_day", Integer, nullable=False),
)

# placement.started / ended (+ the referral's and home's areas, and the latest fee notice's basis)
placements = Table(
    "placements", metadata,
    Column("placement_id", String(36), primary_key=True),
    Column("referral_id", String(36), nullable=False, index=True),
    Column("la_code", String(16), nullable=False),
    Column("home_id", String(36), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("start_day", Integer, nullable=False),
    Column("end_date", Date, nullable=True),
    Column("end_day", Integer, nullable=True),
    Column("planned", Boolean, nullable=True),
    Column("ending_type", String(40), nullable=True),
    Column("destination", String(60), nullable=True),
    Column("received_day", Integer, nullable=True),
    Column("distance_km", Float, nullable=True),
    Column("outside_area", Boolean, nullable=True),
    Column("fee_basis", String(20), nullable=True),
    Column("contract_id", String(36), nullable=True),
)
Index("ix_outcomes_placements_la_start", placements.c.la_code, placements.c.start_day)
Index("ix_outcomes_placements_start", placements.c.start_day)
Index("ix_outcomes_placements_home", placements.c.home_id, placements.c.start_day)

# placement.fee_applied: the weekly fee as it changed, per child (referral), for the actual journey
fee_notices = Table(
    "fee_notices", metadata,
    Column("referral_id", String(36), primary_key=True),
    Column("sequence", Integer, primary_key=True),
    Column("la_code", String(16), nullable=False),
    Column("placement_id", String(36), nullable=True),
    Column("contract_id", String(36), nullable=True),
    Column("weekly_pence", Integer, nullable=True),
    Column("basis", String(20), nullable=False),
    Column("effective_date", Date, nullable=True),
)

# invoice.issued's lines for a child (a placement): what billing invoiced, adjustments included, for the actual
# journey. Block contract lines (no placement) are not kept: they are no child's cost.
invoice_lines = Table(
    "invoice_lines", metadata,
    Column("line_id", String(36), primary_key=True),
    Column("invoice_id", String(36), nullable=False),
    Column("la_code", String(16), nullable=False),
    Column("referral_id", String(36), nullable=True),
    Column("placement_id", String(36), nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("kind", String(20), nullable=False),           # charge | late | adjustment
    Column("stream", String(60), nullable=False),         # fee | add_on:<id>
    Column("rate_key", String(40), nullable=True),
    Column("from_date", Date, nullable=False),
    Column("to_date", Date, nullable=False),              # inclusive
    Column("days", Integer, nullable=False),
    Column("weekly_pence", Integer, nullable=True),
    Column("amount_pence", Integer, nullable=False),
    Column("adjusts_line_id", String(36), nullable=True),
    Column("period_end", Date, nullable=True),            # the invoice's period: orders a line's adjustments
    Column("contract_id", String(36), nullable=True),     # the invoice's contract (0004): use above a block
)
Index("ix_outcomes_invoice_lines_placement", invoice_lines.c.placement_id)

# invoice.issued's block lines (stream "block", no child): what a block contract charged, whether its beds were
# full or not (0004). With the contract ids placement.fee_applied names, the sufficiency report's block use.
contract_lines = Table(
    "contract_lines", metadata,
    Column("line_id", String(36), primary_key=True),
    Column("invoice_id", String(36), nullable=False),
    Column("contract_id", String(36), nullable=False),
    Column("la_code", String(16), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("stream", String(60), nullable=False),
    Column("from_day", Integer, nullable=False),
    Column("to_day", Integer, nullable=False),            # inclusive
    Column("days", Integer, nullable=False),
    Column("weekly_pence", Integer, nullable=True),
    Column("amount_pence", Integer, nullable=False),
)
Index("ix_outcomes_contract_lines_la_day", contract_lines.c.la_code, contract_lines.c.from_day)

# The measures recorded at a placement's measurement point: one row per point, each group once.
measurements = Table(
    "measurements", metadata,
    Column("id", String(36), primary_key=True),
    Column("placement_id", String(36), nullable=False),
    Column("timepoint", String(30), nullable=False),
    Column("recorded_on", Date, nullable=False),
    Column("sdq_informant", String(10), nullable=True),
    Column("sdq_items", JSON, nullable=True),
    Column("sdq", JSON, nullable=True),
    Column("sdq_total", Integer, nullable=True),
    Column("education", JSON, nullable=True),
    Column("health", JSON, nullable=True),
    Column("stability", JSON, nullable=True),
    Column("version", Integer, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("placement_id", "timepoint", name="uq_measurements_point"),
)

# A correction of a wrongly recorded measure group (0004): the measurement row then holds the corrected values;
# what it held before, who corrected it, when and why (a code) are kept here, never overwritten.
measure_corrections = Table(
    "measure_corrections", metadata,
    Column("id", String(36), primary_key=True),
    Column("measurement_id", String(36), nullable=False, index=True),
    Column("placement_id", String(36), nullable=False, index=True),
    Column("timepoint", String(30), nullable=False),
    Column("measure_group", String(20), nullable=False),  # sdq | education | health | stability
    Column("previous", JSON, nullable=True),
    Column("corrected", JSON, nullable=False),
    Column("reason_code", String(40), nullable=False),
    Column("corrected_by", String(200), nullable=False),  # the client id (a role's client, never a name)
    Column("corrected_at", UtcDateTime(), nullable=False),
    Column("version", Integer, nullable=False),           # the measurement's version the correction made
)

# One row per (deadline, notice) sent: a second replica's insert conflicts and emits nothing.
measure_notices = Table(
    "measure_notices", metadata,
    Column("deadline_key", String(120), primary_key=True),
    Column("notice", String(12), primary_key=True),
    Column("sent_at", UtcDateTime(), nullable=False),
)


# --- outreach (issue 16, 0005): interventions from itp.interventions, their follow-ups, their invoice lines, and
# each council's assumed cost of a breakdown (the ROI report's setting) with every change kept
interventions = Table(
    "interventions", metadata,
    Column("intervention_id", String(36), primary_key=True),
    Column("referral_id", String(36), nullable=False, index=True),
    Column("la_code", String(16), nullable=False),
    Column("team_id", String(36), nullable=False),
    Column("basis", String(12), nullable=True),           # fixed_fee | weekly
    Column("planned_weeks", Integer, nullable=True),
    Column("current_setting", String(30), nullable=True),
    Column("start_date", Date, nullable=True),
    Column("status", String(20), nullable=False),         # accepted | active | stepping_down | closed
    Column("end_date", Date, nullable=True),
    Column("outcome", String(20), nullable=True),         # stabilised | breakdown | withdrawn | moved_on
    Column("stabilised_on", Date, nullable=True),
)
Index("ix_outcomes_interventions_la", interventions.c.la_code, interventions.c.start_date)

intervention_sessions = Table(
    "intervention_sessions", metadata,
    Column("session_id", String(36), primary_key=True),
    Column("intervention_id", String(36), nullable=False, index=True),
    Column("session_date", Date, nullable=False),
    Column("minutes", Integer, nullable=False),
)

intervention_follow_ups = Table(
    "intervention_follow_ups", metadata,
    Column("intervention_id", String(36), primary_key=True),
    Column("checkpoint", String(10), primary_key=True),   # 6_weeks | 3_months | 6_months
    Column("referral_id", String(36), nullable=False),
    Column("la_code", String(16), nullable=False),
    Column("due_date", Date, nullable=False),
    Column("held", Boolean, nullable=False),
    Column("recorded_on", Date, nullable=False),
    Column("breakdown_date", Date, nullable=True),
)
Index("ix_outcomes_follow_ups_referral", intervention_follow_ups.c.referral_id)

# invoice.issued's outreach lines (stream "outreach", intervention_id on the line): the fees paid
outreach_lines = Table(
    "outreach_lines", metadata,
    Column("line_id", String(36), primary_key=True),
    Column("invoice_id", String(36), nullable=False),
    Column("la_code", String(16), nullable=False),
    Column("intervention_id", String(36), nullable=False, index=True),
    Column("kind", String(20), nullable=False),
    Column("from_date", Date, nullable=False),
    Column("to_date", Date, nullable=False),
    Column("days", Integer, nullable=False),
    Column("amount_pence", Integer, nullable=False),
)

outreach_settings = Table(
    "outreach_settings", metadata,
    Column("la_code", String(16), primary_key=True),
    Column("breakdown_cost_pence", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_by", String(200), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

outreach_setting_changes = Table(
    "outreach_setting_changes", metadata,
    Column("id", String(36), primary_key=True),
    Column("la_code", String(16), nullable=False, index=True),
    Column("from_pence", Integer, nullable=True),
    Column("to_pence", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("changed_by", String(200), nullable=False),
    Column("changed_at", UtcDateTime(), nullable=False),
)

# restrictions of processing in force on a child's record (decision 0006; libs.common.restrictions): councils'
# reads of the child answer 451, the hub's carry a marker
restricted_children = restricted_children_table(metadata)
