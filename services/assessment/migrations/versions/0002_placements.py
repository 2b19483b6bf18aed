"""assessment: placements, tasks, plans and versions, reviews, deadline notices, idempotent requests

Revision ID: assessment_0002
"""
import sqlalchemy as sa
from alembic import op

revision = "assessment_0002"
down_revision = "assessment_0001"

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "placements",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("admission_id", sa.String(36), nullable=False, unique=True),
        sa.Column("referral_id", sa.String(36), nullable=False, index=True),
        sa.Column("la_code", sa.String(16), nullable=False, index=True),
        sa.Column("home_id", sa.String(36), nullable=False, index=True),
        sa.Column("bed_id", sa.String(36), nullable=False),
        sa.Column("key_worker", sa.String(120), nullable=True),
        sa.Column("therapeutic_lead", sa.String(120), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("planned_start_date", sa.Date, nullable=False),
        sa.Column("arrival_date", sa.Date, nullable=True),
        sa.Column("phase_1_end", sa.Date, nullable=True),
        sa.Column("history", sa.JSON, nullable=False),
        sa.Column("extensions", sa.JSON, nullable=False),
        sa.Column("transitions", sa.JSON, nullable=False),
        sa.Column("end_date", sa.Date, nullable=True),
        sa.Column("ending", sa.JSON, nullable=True),
        sa.Column("step_down", sa.JSON, nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "tasks",
        sa.Column("placement_id", sa.String(36), primary_key=True),
        sa.Column("code", sa.String(40), primary_key=True),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("owner", sa.String(120), nullable=False),
        sa.Column("done_on", sa.Date, nullable=True),
        sa.Column("done_by", sa.String(120), nullable=True),
    )
    op.create_table(
        "plans",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("placement_id", sa.String(36), nullable=False, unique=True),
        sa.Column("la_code", sa.String(16), nullable=False),
        sa.Column("sections", sa.JSON, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("issued_version", sa.Integer, nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("issued_on", sa.Date, nullable=True),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "plan_versions",
        sa.Column("plan_id", sa.String(36), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("sections", sa.JSON, nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("review_id", sa.String(36), nullable=True),
        sa.Column("issued_on", sa.Date, nullable=False),
        sa.Column("issued_at", TS, nullable=False),
        sa.Column("issued_by", sa.String(120), nullable=False),
    )
    op.create_table(
        "reviews",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("placement_id", sa.String(36), nullable=False, index=True),
        sa.Column("la_code", sa.String(16), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("completed_on", sa.Date, nullable=True),
        sa.Column("attendees", sa.JSON, nullable=True),
        sa.Column("findings", sa.Text, nullable=True),
        sa.Column("plan_version", sa.Integer, nullable=True),
        sa.UniqueConstraint("placement_id", "number", name="uq_reviews_placement_number"),
    )
    op.create_index("ix_reviews_due", "reviews", ["due_date"])
    op.create_table(
        "deadline_notices",
        sa.Column("deadline_key", sa.String(120), nullable=False),
        sa.Column("notice", sa.String(20), nullable=False),
        sa.Column("sent_at", TS, nullable=False),
        sa.UniqueConstraint("deadline_key", "notice", name="uq_deadline_notices_key_notice"),
    )
    op.create_table(
        "idempotent_requests",
        sa.Column("client_id", sa.String(120), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("route", sa.String(200), nullable=False),
        sa.Column("body_sha256", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer, nullable=False),
        sa.Column("response", sa.JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("client_id", "key", name="uq_idempotent_requests_client_key"),
    )


def downgrade() -> None:
    for table in ("idempotent_requests", "deadline_notices", "reviews", "plan_versions", "plans", "tasks",
                  "placements"):
        if table == "reviews":
            op.drop_index("ix_reviews_due", "reviews")
        op.drop_table(table)
