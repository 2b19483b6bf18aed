"""outcomes: refinements (placeholder reserved for issue 13; empty until that work lands)

Revision ID: outcomes_0004
"""
revision = "outcomes_0004"
down_revision = "outcomes_0003"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
