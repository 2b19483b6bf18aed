"""Alembic environment of the matching service (its own version table, its own schema)."""
from libs.common.migrations import run_env

run_env()
