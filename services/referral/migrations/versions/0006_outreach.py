"""referral: outreach (placeholder reserved for issue 16; empty until that work lands)

Revision ID: referral_0006
"""
revision = "referral_0006"
down_revision = "referral_0005"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
