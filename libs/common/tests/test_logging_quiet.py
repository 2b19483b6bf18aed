"""What reaches the logs at INFO: a process configured by configure_logging (as every service, relay and
`itp run-distributed`'s seeder is) does not print its connection pool's "Pool disposed" / "Pool recreating"
lines (libs.common.db.FairQueuePool is named after our module, so our INFO level let them through), while its
own INFO lines still go out. Run in a fresh interpreter: logging is configured once per process."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support import PG_ADMIN_URL

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = """
import asyncio, logging, sys
from libs.common.observability import configure_logging
from libs.common.db import make_engine

configure_logging("INFO", json_logs=False)

async def main():
    engine = make_engine(sys.argv[1])
    async with engine.connect():
        pass
    await engine.dispose()
    logging.getLogger("libs.common.db").info("pool disposed by the test")

asyncio.run(main())
"""


def test_pool_dispose_is_not_logged_at_info():
    done = subprocess.run([sys.executable, "-c", SCRIPT, PG_ADMIN_URL], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "INFO libs.common.db pool disposed by the test" in done.stderr  # INFO is on
    assert "Pool disposed" not in done.stderr and "Pool recreating" not in done.stderr
    assert "FairQueuePool" not in done.stderr
