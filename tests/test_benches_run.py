"""The benchmarks are not tests, but they must keep working: each is run here with a handful of samples
(the figures are not looked at, only that the bench finishes and prints them). A bench broken by a later
change (a new rate limit, a renamed route) fails here rather than when someone needs its figures."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parent.parent
BENCHES = sorted(p.name for p in (ROOT / "bench").glob("bench_*.py"))


@pytest.mark.parametrize("bench", BENCHES)
def test_bench_runs_and_prints_its_figures(bench, pg_available, kafka_broker):
    done = subprocess.run([sys.executable, str(ROOT / "bench" / bench), "3"], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    # latency benches print percentiles; throughput benches (billing's close) a ratio against their baseline
    assert re.search(r"\bp50\b.*\bp99\b|\bratio\b", done.stdout, re.S), done.stdout[-2000:]
