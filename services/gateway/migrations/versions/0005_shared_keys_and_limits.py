"""gateway: shared keys and limits (placeholder reserved for issue 15 (gateway scale-out); empty until that work lands)

Revision ID: gateway_0005
"""
revision = "gateway_0005"
down_revision = "gateway_0004"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
