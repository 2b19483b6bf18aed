from sqlalchemy import JSON, Boolean, Column, Date, Index, Integer, String, Table, Text, UniqueConstraint

from libs.common.http import idempotency_table
from libs.common.restrictions import restricted_children_table
from libs.common.runtime import build_metadata
from libs.common.weekly_fees import weekly_fees_table
from libs.common.types import UtcDateTime

metadata = build_metadata()

# One placement per accepted admission. The la_code comes from the admission.accepted envelope.
# history: the phase spans [{phase, start, end}], extensions: [{reason, previous_end, new_end}].
placements = Table(
    "placements", metadata,
    Column("id", String(36), primary_key=True),
    Column("admission_id", String(36), nullable=False, unique=True),
    Column("referral_id", String(36), nullable=False, index=True),
    Column("la_code", String(16), nullable=False, index=True),
    Column("home_id", String(36), nullable=False, index=True),
    Column("bed_id", String(36), nullable=False),
    Column("key_worker", String(120), nullable=True),
    Column("therapeutic_lead", String(120), nullable=True),
    Column("status", String(20), nullable=False),
    Column("planned_start_date", Date, nullable=False),
    Column("arrival_date", Date, nullable=True),
    Column("phase_1_end", Date, nullable=True),
    Column("history", JSON, nullable=False),
    Column("extensions", JSON, nullable=False),
    Column("transitions", JSON, nullable=False),   # audit of phase moves: effective date, reason, backdated, by, at
    Column("end_date", Date, nullable=True),
    Column("ending", JSON, nullable=True),
    Column("step_down", JSON, nullable=True),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    # 0005 (SSDA903 episodes): the home's URN and postcode from admission.accepted, the reason for the first
    # episode (S, P or B, recorded at arrival) and the legal status changes [{legal_status, effective_date,
    # recorded_by, recorded_at}]
    Column("home_urn", String(8), nullable=True),
    Column("home_postcode", String(10), nullable=True),
    Column("reason_new_episode", String(1), nullable=True),
    Column("legal_statuses", JSON, nullable=True),
)

# 0005: the child's coded facts the SSDA903 episodes need, from the referral's events (referral.received,
# referral.updated): the council's reference (never a name), date of birth, sex, legal status at referral,
# category of need and home outward code. Read only beside a placement the caller may read.
children = Table(
    "children", metadata,
    Column("referral_id", String(36), primary_key=True),
    Column("la_code", String(16), nullable=False, index=True),
    Column("child_ref", String(64), nullable=False),
    Column("date_of_birth", Date, nullable=False),
    Column("sex", String(10), nullable=False),
    Column("legal_status", String(4), nullable=True),
    Column("category_of_need", String(2), nullable=True),
    Column("home_outward_code", String(8), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
    # 0006 (outreach referrals): where the child lives now, and the placement a step-down handed over from
    Column("current_setting", String(40), nullable=True),
    Column("handoff_from_placement_id", String(36), nullable=True),
)

tasks = Table(
    "tasks", metadata,
    Column("placement_id", String(36), primary_key=True),
    Column("code", String(40), primary_key=True),
    Column("due_date", Date, nullable=False),
    Column("owner", String(120), nullable=False),
    Column("done_on", Date, nullable=True),
    Column("done_by", String(120), nullable=True),
)

# The plan's working copy (sections, edited with If-Match on version) and its issued versions.
plans = Table(
    "plans", metadata,
    Column("id", String(36), primary_key=True),
    Column("placement_id", String(36), nullable=False, unique=True),
    Column("la_code", String(16), nullable=False),
    Column("sections", JSON, nullable=False),
    Column("version", Integer, nullable=False),         # the working copy's ETag
    Column("issued_version", Integer, nullable=False),  # 0 until the Initial Pathway Plan is issued
    Column("due_date", Date, nullable=False),
    Column("issued_on", Date, nullable=True),           # the Initial Pathway Plan's issue date
    Column("updated_at", UtcDateTime(), nullable=False),
)

plan_versions = Table(
    "plan_versions", metadata,
    Column("plan_id", String(36), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("sections", JSON, nullable=False),
    Column("source", String(40), nullable=False),       # initial | review
    Column("review_id", String(36), nullable=True),
    Column("issued_on", Date, nullable=False),
    Column("issued_at", UtcDateTime(), nullable=False),
    Column("issued_by", String(120), nullable=False),
)

reviews = Table(
    "reviews", metadata,
    Column("id", String(36), primary_key=True),
    Column("placement_id", String(36), nullable=False, index=True),
    Column("la_code", String(16), nullable=False),
    Column("number", Integer, nullable=False),
    Column("kind", String(20), nullable=False),          # 90_day | six_monthly
    Column("due_date", Date, nullable=False),
    Column("completed_on", Date, nullable=True),
    Column("attendees", JSON, nullable=True),
    Column("findings", Text, nullable=True),
    Column("plan_version", Integer, nullable=True),
    UniqueConstraint("placement_id", "number", name="uq_reviews_placement_number"),
)

# One row per deadline notice sent: a second replica's sweep conflicts here and emits nothing.
deadline_notices = Table(
    "deadline_notices", metadata,
    Column("deadline_key", String(120), nullable=False),
    Column("notice", String(20), nullable=False),        # due_soon | missed
    Column("sent_at", UtcDateTime(), nullable=False),
    UniqueConstraint("deadline_key", "notice", name="uq_deadline_notices_key_notice"),
)

# Idempotency-Key of each state-changing POST (the toolkit's one shape, libs/common/http/idempotency.py):
# the same key and request answers the stored response; purged after 24 hours (scheduled.py).
idempotent_requests = idempotency_table(metadata)

Index("ix_reviews_due", reviews.c.due_date)


# the weekly fee billing tells for each child (placement.fee_applied): libs/common/weekly_fees.py
weekly_fees = weekly_fees_table(metadata)


# 0006 (issue 16): outreach interventions, one per accepted outreach referral (outreach.accepted; the id is
# libs.common.ids.intervention_id_for(admission_id)). plan: {goals: [codes], sessions_per_week}; plan_versions:
# every plan with its version, day and author; history: each status move {from, to, effective_date, by, at}.
interventions = Table(
    "interventions", metadata,
    Column("id", String(36), primary_key=True),
    Column("admission_id", String(36), nullable=False, unique=True),
    Column("referral_id", String(36), nullable=False, index=True),
    Column("la_code", String(16), nullable=False, index=True),
    Column("team_id", String(36), nullable=False, index=True),
    Column("region", String(60), nullable=True),
    Column("basis", String(20), nullable=False),               # fixed_fee | weekly
    Column("planned_weeks", Integer, nullable=False),
    Column("planned_start_date", Date, nullable=False),
    Column("current_setting", String(40), nullable=True),
    Column("handoff_from_placement_id", String(36), nullable=True),
    Column("status", String(20), nullable=False),
    Column("start_date", Date, nullable=True),                 # the activation's effective date
    Column("stepping_down_on", Date, nullable=True),
    Column("end_date", Date, nullable=True),
    Column("outcome", String(20), nullable=True),
    Column("stabilised_on", Date, nullable=True),
    Column("plan", JSON, nullable=False),
    Column("plan_version", Integer, nullable=False),
    Column("plan_versions", JSON, nullable=False),
    Column("history", JSON, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

# with_whom: codes only (child, carers, school, family, social_worker, other_professional); no names, no notes
intervention_sessions = Table(
    "intervention_sessions", metadata,
    Column("id", String(36), primary_key=True),
    Column("intervention_id", String(36), nullable=False, index=True),
    Column("session_date", Date, nullable=False),
    Column("minutes", Integer, nullable=False),
    Column("with_whom", JSON, nullable=False),
    Column("recorded_by", String(120), nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
)

# whether the child's placement held at 6 weeks, 3 months and 6 months after the close: one row per checkpoint
intervention_follow_ups = Table(
    "intervention_follow_ups", metadata,
    Column("intervention_id", String(36), primary_key=True),
    Column("checkpoint", String(10), primary_key=True),
    Column("due_date", Date, nullable=False),
    Column("held", Boolean, nullable=False),
    Column("recorded_on", Date, nullable=False),
    Column("breakdown_date", Date, nullable=True),
    Column("recorded_by", String(120), nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
)

# restrictions of processing in force on a child's record (decision 0006; libs.common.restrictions): councils'
# reads of the child answer 451, the hub's carry a marker
restricted_children = restricted_children_table(metadata)
