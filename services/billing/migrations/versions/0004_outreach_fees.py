"""billing: outreach fees (placeholder reserved for issue 16; empty until that work lands)

Revision ID: billing_0004
"""
revision = "billing_0004"
down_revision = "billing_0003"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
