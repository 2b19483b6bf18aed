from libs.common.types import UtcDateTime
from sqlalchemy import JSON, Boolean, Column, Date, Index, Integer, String, Table, Text, text

from libs.common.http import idempotency_table
from libs.common.restrictions import restricted_children_table
from libs.common.runtime import build_metadata
from libs.common.weekly_fees import weekly_fees_table

metadata = build_metadata()
idempotent_requests = idempotency_table(metadata)   # Idempotency-Key answers (libs.common.http)

# The referrals matching knows about, built from referral events (never read from the referral schema).
referrals = Table(
    "referrals", metadata,
    Column("id", String(36), primary_key=True),
    Column("la_code", String(16), nullable=False, index=True),
    Column("date_of_birth", Date, nullable=False),
    Column("sex", String(10), nullable=False),
    Column("home_outward_code", String(8), nullable=True),
    Column("needs", JSON, nullable=False),
    Column("risks", JSON, nullable=False),
    Column("urgency", String(10), nullable=False),
    Column("wanted_start_date", Date, nullable=True),
    Column("status", String(20), nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    # 0007: outreach referrals (issue 16): ranked against outreach teams instead of homes
    Column("kind", String(10), nullable=False, server_default="bed"),
    Column("current_setting", String(30), nullable=True),
    Column("at_risk", JSON, nullable=True),
    Column("outreach_basis", String(10), nullable=True),
    Column("outreach_planned_weeks", Integer, nullable=True),
    # 0006: the child's placement requirements (the event's placement_requirements: coded, never free text)
    Column("requirements", JSON, nullable=True),
)

# Spoke homes: registration facts, onboarding status, the per-home Phase 1 limit. version is the ETag.
homes = Table(
    "homes", metadata,
    Column("id", String(36), primary_key=True),
    Column("urn", String(8), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("address", String(500), nullable=False),
    Column("postcode", String(10), nullable=False),
    Column("postcode_district", String(4), nullable=False),
    Column("registered_places", Integer, nullable=False),
    Column("age_min", Integer, nullable=False),
    Column("age_max", Integer, nullable=False),
    Column("sexes", JSON, nullable=False),
    Column("categories", JSON, nullable=False),
    Column("specialisms", JSON, nullable=False),
    Column("registered_manager", String(200), nullable=True),
    # 0005: the registered manager's work contact (adult professional data; councils with a child there see it)
    Column("registered_manager_email", String(254), nullable=True),
    Column("registered_manager_phone", String(20), nullable=True),
    Column("ofsted_rating", String(30), nullable=True),
    Column("inspection_date", Date, nullable=True),
    Column("registration_status", String(20), nullable=False),
    Column("status", String(20), nullable=False),            # onboarding | live
    Column("phase_1_limit", Integer, nullable=False),
    # 0006: what the home offers against a child's placement requirements (the Placements Data Standard)
    Column("pets", Boolean, nullable=False, server_default=text("false")),
    Column("accepts_deprivation_of_liberty", Boolean, nullable=False, server_default=text("false")),
    Column("communication_support", JSON, nullable=False, server_default=text("'[]'")),
    Column("adapted", Boolean, nullable=False, server_default=text("false")),
    Column("version", Integer, nullable=False),
    Column("went_live_at", UtcDateTime(), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

checklist_items = Table(
    "checklist_items", metadata,
    Column("home_id", String(36), primary_key=True),
    Column("item", String(60), primary_key=True),
    Column("done", Boolean, nullable=False),
    Column("confirmed_by", String(120), nullable=True),
    Column("confirmed_at", UtcDateTime(), nullable=True),
    Column("note", String(500), nullable=True),
)

beds = Table(
    "beds", metadata,
    Column("id", String(36), primary_key=True),
    Column("home_id", String(36), nullable=False, index=True),
    Column("label", String(40), nullable=False),
    Column("state", String(20), nullable=False),             # vacant | reserved | occupied | out_of_service
    Column("is_pathway", Boolean, nullable=False),
    Column("reserved_for", String(36), nullable=True),       # referral id
    Column("reserved_until", UtcDateTime(), nullable=True),
    Column("admission_id", String(36), nullable=True),
    Column("placement_id", String(36), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
    # a home has at most one Pathway Bed
    Index("uq_beds_one_pathway_bed", "home_id", unique=True, postgresql_where=text("is_pathway"),
          sqlite_where=text("is_pathway")),
)

# Residents read model, built from the assessment service's placement events.
residents = Table(
    "residents", metadata,
    Column("placement_id", String(36), primary_key=True),
    Column("referral_id", String(36), nullable=False, index=True),
    Column("home_id", String(36), nullable=False, index=True),
    Column("bed_id", String(36), nullable=False),
    Column("phase", String(20), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=True),
)

admissions = Table(
    "admissions", metadata,
    Column("id", String(36), primary_key=True),
    Column("referral_id", String(36), nullable=False, index=True),
    Column("la_code", String(16), nullable=False),
    Column("decision", String(10), nullable=False),          # accepted | declined
    Column("status", String(20), nullable=False),            # reserved | arrived | lapsed | withdrawn | declined
    Column("home_id", String(36), nullable=True),
    Column("bed_id", String(36), nullable=True),
    Column("planned_start_date", Date, nullable=True),
    Column("reserved_until", UtcDateTime(), nullable=True),
    Column("reason_code", String(40), nullable=True),
    Column("reason_text", String(1000), nullable=True),
    Column("fee_basis_hint", String(40), nullable=True),
    Column("impact_risk_assessment_id", String(64), nullable=True),
    Column("impact_risk_assessment", JSON, nullable=True),   # the impact risk assessment shown at the time
    Column("decided_by", String(120), nullable=False),
    Column("decided_at", UtcDateTime(), nullable=False),
    # 0007: an outreach decision (issue 16): the team, the basis and the planned weeks (home and bed are null)
    Column("team_id", String(36), nullable=True),
    Column("outreach_basis", String(10), nullable=True),
    Column("planned_weeks", Integer, nullable=True),
)

# 0007: the hub's outreach teams (issue 16), per region; caseload counts the open interventions (kept in the same
# transaction as outreach_caseload: +1 by an accept, -1 when the intervention closes). version is the ETag.
outreach_teams = Table(
    "outreach_teams", metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("region", String(40), nullable=False, index=True),
    Column("base_postcode_district", String(4), nullable=False),
    Column("practitioners", Integer, nullable=False),
    Column("caseload_limit", Integer, nullable=False),
    Column("caseload", Integer, nullable=False),
    Column("specialisms", JSON, nullable=False),
    Column("reach_miles", Integer, nullable=False),
    Column("status", String(20), nullable=False),            # active | suspended
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

# 0007: one row per accepted outreach referral, open until assessment's intervention.closed
outreach_caseload = Table(
    "outreach_caseload", metadata,
    Column("admission_id", String(36), primary_key=True),
    Column("team_id", String(36), nullable=False, index=True),
    Column("referral_id", String(36), nullable=False),
    Column("la_code", String(16), nullable=False),
    Column("basis", String(10), nullable=False),
    Column("planned_weeks", Integer, nullable=False),
    Column("start_date", Date, nullable=False),
    Column("opened_at", UtcDateTime(), nullable=False),
    Column("closed_at", UtcDateTime(), nullable=True),
    Column("intervention_id", String(36), nullable=True),
    Column("outcome", String(20), nullable=True),
    Index("uq_outreach_caseload_referral", "referral_id", unique=True),
)

# Every impact risk assessment shown, keyed by the hash of its content (so the same answer is stored once).
impact_risk_assessments = Table(
    "impact_risk_assessments", metadata,
    Column("id", String(64), primary_key=True),
    Column("referral_id", String(36), nullable=False, index=True),
    Column("rules_version", String(40), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

# One row: bumped in the same transaction as any change to homes, beds or residents, so that every
# replica knows when its in-memory snapshot of the homes is stale.
matching_state = Table(
    "matching_state", metadata,
    Column("id", Integer, primary_key=True),
    Column("homes_version", Integer, nullable=False),
)


# the weekly fee billing tells for each child (placement.fee_applied): libs/common/weekly_fees.py
weekly_fees = weekly_fees_table(metadata)

# restrictions of processing in force on a child's record (decision 0006; libs.common.restrictions): councils'
# reads of the child answer 451, the hub's carry a marker
restricted_children = restricted_children_table(metadata)
