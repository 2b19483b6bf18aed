"""Shared test helpers. No test module imports another test module: what several tests need lives here.

Under ITP_REQUIRE_INTEGRATION=1 (CI) a missing Postgres or broker fails the test; otherwise it skips.
"""
from __future__ import annotations

import os
from datetime import date

import pytest

from itp.testing import (PG_ADMIN_URL, Broker, Received, Receiver, free_port, pg_template, running, tansu_binary,
                         unique, wait_for)

REQUIRED = os.environ.get("ITP_REQUIRE_INTEGRATION") == "1"

__all__ = ["PG_ADMIN_URL", "Broker", "Received", "Receiver", "free_port", "pg_template", "running", "tansu_binary",
           "today", "unique", "wait_for", "REQUIRED", "unavailable"]


def today() -> date:
    """Today's date, asked at each use. A module-level TODAY went stale when a run crossed midnight: the services
    ask the clock, and refused the tests' "today" as a date in the past."""
    return date.today()


def unavailable(what: str, why: str):
    message = f"{what} is not available: {why}"
    if REQUIRED:
        pytest.fail(message + " (ITP_REQUIRE_INTEGRATION=1: integration tests must run)", pytrace=False)
    pytest.skip(message)
