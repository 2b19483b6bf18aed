"""matching: outreach teams (placeholder reserved for issue 16; empty until that work lands)

Revision ID: matching_0007
"""
revision = "matching_0007"
down_revision = "matching_0006"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
