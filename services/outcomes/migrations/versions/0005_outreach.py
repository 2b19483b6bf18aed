"""outcomes: outreach (placeholder reserved for issue 16; empty until that work lands)

Revision ID: outcomes_0005
"""
revision = "outcomes_0005"
down_revision = "outcomes_0004"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
