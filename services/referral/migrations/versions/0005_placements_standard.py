"""referral: placements standard (placeholder reserved for issue 12; empty until that work lands)

Revision ID: referral_0005
"""
revision = "referral_0005"
down_revision = "referral_0004"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
