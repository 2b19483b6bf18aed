"""matching: the standard Idempotency-Key table; the impact risk assessment named so

- idempotent_requests (libs.common.http): Idempotency-Key answers of every write route, replacing
  admissions' own idempotency_key / request_hash columns (dropped).
- match_assessments -> impact_risk_assessments; admissions.assessment_id / assessment ->
  impact_risk_assessment_id / impact_risk_assessment.

Revision ID: matching_0003
"""
import sqlalchemy as sa
from alembic import op

from libs.common.http.idempotency import IDEMPOTENCY_TABLE, create_idempotency_table

revision = "matching_0003"
down_revision = "matching_0002"


def _rename_assessments(old: str, new: str, old_id: str, new_id: str, old_body: str, new_body: str) -> None:
    op.drop_index(f"ix_{old}_referral_id", table_name=old)
    op.rename_table(old, new)
    op.create_index(f"ix_{new}_referral_id", new, ["referral_id"])
    with op.batch_alter_table("admissions") as batch:
        batch.alter_column(old_id, new_column_name=new_id, existing_type=sa.String(64), existing_nullable=True)
        batch.alter_column(old_body, new_column_name=new_body, existing_type=sa.JSON, existing_nullable=True)


def upgrade() -> None:
    create_idempotency_table(op)
    with op.batch_alter_table("admissions") as batch:  # SQLite: the table is copied, without the UNIQUE
        batch.drop_column("idempotency_key")
        batch.drop_column("request_hash")
    _rename_assessments("match_assessments", "impact_risk_assessments", "assessment_id", "impact_risk_assessment_id",
                        "assessment", "impact_risk_assessment")


def downgrade() -> None:
    with op.batch_alter_table("admissions") as batch:
        batch.add_column(sa.Column("idempotency_key", sa.String(200), nullable=True, unique=True))
        batch.add_column(sa.Column("request_hash", sa.String(64), nullable=True))
    _rename_assessments("impact_risk_assessments", "match_assessments", "impact_risk_assessment_id", "assessment_id",
                        "impact_risk_assessment", "assessment")
    op.drop_table(IDEMPOTENCY_TABLE)
