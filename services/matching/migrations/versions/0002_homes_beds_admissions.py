"""matching: homes, onboarding checklist, beds, residents, admissions, assessments

Revision ID: matching_0002
"""
import sqlalchemy as sa
from alembic import op

revision = "matching_0002"
down_revision = "matching_0001"


def upgrade() -> None:
    op.create_table(
        "homes",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("urn", sa.String(8), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("address", sa.String(500), nullable=False),
        sa.Column("postcode", sa.String(10), nullable=False),
        sa.Column("postcode_district", sa.String(4), nullable=False),
        sa.Column("registered_places", sa.Integer, nullable=False),
        sa.Column("age_min", sa.Integer, nullable=False),
        sa.Column("age_max", sa.Integer, nullable=False),
        sa.Column("sexes", sa.JSON, nullable=False),
        sa.Column("categories", sa.JSON, nullable=False),
        sa.Column("specialisms", sa.JSON, nullable=False),
        sa.Column("registered_manager", sa.String(200), nullable=True),
        sa.Column("ofsted_rating", sa.String(30), nullable=True),
        sa.Column("inspection_date", sa.Date, nullable=True),
        sa.Column("registration_status", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("phase_1_limit", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("went_live_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "checklist_items",
        sa.Column("home_id", sa.String(36), primary_key=True),
        sa.Column("item", sa.String(60), primary_key=True),
        sa.Column("done", sa.Boolean, nullable=False),
        sa.Column("confirmed_by", sa.String(120), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.String(500), nullable=True),
    )
    op.create_table(
        "beds",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("home_id", sa.String(36), nullable=False, index=True),
        sa.Column("label", sa.String(40), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("is_pathway", sa.Boolean, nullable=False),
        sa.Column("reserved_for", sa.String(36), nullable=True),
        sa.Column("reserved_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("admission_id", sa.String(36), nullable=True),
        sa.Column("placement_id", sa.String(36), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("uq_beds_one_pathway_bed", "beds", ["home_id"], unique=True,
                    postgresql_where=sa.text("is_pathway"), sqlite_where=sa.text("is_pathway"))
    op.create_table(
        "residents",
        sa.Column("placement_id", sa.String(36), primary_key=True),
        sa.Column("referral_id", sa.String(36), nullable=False, index=True),
        sa.Column("home_id", sa.String(36), nullable=False, index=True),
        sa.Column("bed_id", sa.String(36), nullable=False),
        sa.Column("phase", sa.String(20), nullable=False),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date, nullable=True),
    )
    op.create_table(
        "admissions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("referral_id", sa.String(36), nullable=False, index=True),
        sa.Column("la_code", sa.String(16), nullable=False),
        sa.Column("decision", sa.String(10), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("home_id", sa.String(36), nullable=True),
        sa.Column("bed_id", sa.String(36), nullable=True),
        sa.Column("planned_start_date", sa.Date, nullable=True),
        sa.Column("reserved_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason_code", sa.String(40), nullable=True),
        sa.Column("reason_text", sa.String(1000), nullable=True),
        sa.Column("fee_basis_hint", sa.String(40), nullable=True),
        sa.Column("assessment_id", sa.String(64), nullable=True),
        sa.Column("assessment", sa.JSON, nullable=True),
        sa.Column("idempotency_key", sa.String(200), nullable=True, unique=True),
        sa.Column("request_hash", sa.String(64), nullable=True),
        sa.Column("decided_by", sa.String(120), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "match_assessments",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("referral_id", sa.String(36), nullable=False, index=True),
        sa.Column("rules_version", sa.String(40), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "matching_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("homes_version", sa.Integer, nullable=False),
    )
    op.execute("INSERT INTO matching_state (id, homes_version) VALUES (1, 0)")


def downgrade() -> None:
    for table in ("matching_state", "match_assessments", "admissions", "residents"):
        op.drop_table(table)
    op.drop_index("uq_beds_one_pathway_bed", table_name="beds")
    for table in ("beds", "checklist_items", "homes"):
        op.drop_table(table)
