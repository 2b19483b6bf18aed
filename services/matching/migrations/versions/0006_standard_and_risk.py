"""matching: standard and risk (placeholder reserved for issue 12; empty until that work lands)

Revision ID: matching_0006
"""
revision = "matching_0006"
down_revision = "matching_0005"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
