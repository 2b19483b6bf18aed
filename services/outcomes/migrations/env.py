"""Alembic environment of the outcomes service (its own version table, its own schema)."""
from libs.common.migrations import run_env

run_env()
