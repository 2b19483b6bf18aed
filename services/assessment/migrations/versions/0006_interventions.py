"""assessment: interventions (placeholder reserved for issue 16; empty until that work lands)

Revision ID: assessment_0006
"""
revision = "assessment_0006"
down_revision = "assessment_0005"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
