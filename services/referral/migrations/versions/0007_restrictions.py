"""referral: restrictions (placeholder reserved for issue 15 (erasure restrictions); empty until that work lands)

Revision ID: referral_0007
"""
revision = "referral_0007"
down_revision = "referral_0006"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
