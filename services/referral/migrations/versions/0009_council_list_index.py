"""referral: a council's list of its referrals, newest first, read from an index (la_code, received_at, id)

Without it a council's page (GET /v1/referrals, ORDER BY received_at DESC, id DESC LIMIT n) read every referral
of that council and sorted them for each page: 0.6 ms of Postgres for 300 referrals, and growing with every
referral the council ever made (records are kept 75 years). With it a page reads its n rows.

Revision ID: referral_0009
"""
from alembic import op

revision = "referral_0009"
down_revision = "referral_0008"


def upgrade() -> None:
    op.create_index("ix_referrals_council_received", "referrals", ["la_code", "received_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_referrals_council_received", "referrals")
