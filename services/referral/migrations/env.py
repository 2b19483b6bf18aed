"""Alembic environment of the referral service (its own version table, its own schema)."""
from libs.common.migrations import run_env

run_env()
