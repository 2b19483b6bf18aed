from sqlalchemy import JSON, Column, Date, Index, Integer, String, Table, Text

from libs.common.http import idempotency_table
from libs.common.runtime import build_metadata
from libs.common.types import UtcDateTime

metadata = build_metadata()

referrals = Table(
    "referrals", metadata,
    Column("id", String(36), primary_key=True),
    Column("la_code", String(16), nullable=False, index=True),
    Column("child_ref", String(64), nullable=False),
    Column("date_of_birth", Date, nullable=False),
    Column("sex", String(10), nullable=False),
    Column("legal_status", String(4), nullable=True),
    Column("home_outward_code", String(8), nullable=True),
    Column("needs", JSON, nullable=False),
    Column("risks", JSON, nullable=False),
    Column("urgency", String(10), nullable=False),
    Column("wanted_start_date", Date, nullable=True),
    Column("status", String(20), nullable=False),
    Column("version", Integer, nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    # 0002: free text (may name the child: stored, returned to the council and the hub, never logged or emitted)
    Column("summary", Text, nullable=True),
    # 0002: the social worker's contact (adult professional data; never in events)
    Column("social_worker", JSON, nullable=True),
    Column("decided_at", UtcDateTime(), nullable=True),
    Column("decision_reason", String(40), nullable=True),  # decline or withdrawal reason code
    Column("admission_id", String(36), nullable=True),
    # 0004: SSDA903 category of need (CIN, N1-N8)
    Column("category_of_need", String(2), nullable=True),
    # 0006: outreach (issue 16). kind bed|outreach; the outreach fields are null on a bed referral
    Column("kind", String(10), nullable=False, server_default="bed"),
    Column("current_setting", String(30), nullable=True),
    Column("at_risk", JSON, nullable=True),
    Column("outreach_basis", String(10), nullable=True),
    Column("outreach_planned_weeks", Integer, nullable=True),
    Column("handoff_from_placement_id", String(36), nullable=True),   # a step-down's handoff (unique)
    Column("placement_id", String(36), nullable=True),   # an accepted bed referral's placement (libs/common/ids)
    # 0005: the Placements Data Standard (issue 12): risk codes asked with no known risk, and the placement request
    # in our words (services/referral/domain/placements_standard.py maps both to the standard and back)
    Column("no_known_risks", JSON, nullable=True),
    Column("placement_request", JSON, nullable=True),
    Index("ix_referrals_received", "received_at", "id"),
    # 0009: a council's list, newest first, read from the index (not all its referrals sorted for each page)
    Index("ix_referrals_council_received", "la_code", "received_at", "id"),
    Index("ix_referrals_placement", "placement_id"),
    Index("uq_referrals_handoff", "handoff_from_placement_id", unique=True),
    Index("ix_referrals_status", "status"),
)

# 0007: restrictions of processing (issue 15, decision 0006): a right-to-erasure request recorded, never a
# deletion. Codes only (no free text). In force while lifted_at is null.
restrictions = Table(
    "restrictions", metadata,
    Column("id", String(36), primary_key=True),
    Column("referral_id", String(36), nullable=False, index=True),
    Column("reason_code", String(30), nullable=False),
    Column("requested_by", String(30), nullable=False),
    Column("requested_on", Date, nullable=False),
    Column("scope", JSON, nullable=False),
    Column("recorded_by", String(120), nullable=False),  # the hub client that recorded it
    Column("recorded_at", UtcDateTime(), nullable=False),
    Column("lifted_at", UtcDateTime(), nullable=True),
    Column("lifted_by", String(120), nullable=True),  # 0008: the hub client that lifted it
)

# Idempotency-Key answers of POST /v1/referrals: the one shape every service uses (libs.common.http)
idempotent_requests = idempotency_table(metadata)
