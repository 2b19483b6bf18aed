"""The benchmarks are not tests, but they must keep working: each is run here with a handful of samples (3, and
as few warm-up requests; bench-dashboard on a copy of the session's seeded demo region). The figures' values are
not judged, only that the bench finishes and prints them as numbers. A bench broken by a later change (a new rate
limit, a renamed route) fails here rather than when someone needs its figures."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from .support.processes import copy_data_dir

ROOT = Path(__file__).resolve().parent.parent
BENCHES = sorted(p.name for p in (ROOT / "bench").glob("bench_*.py"))
# latency benches print percentiles in ms; throughput benches (billing's close) a ratio against their baseline
FIGURES = re.compile(r"\bp50\s+\d+(\.\d+)?\s*ms.*?\bp99\s+\d+(\.\d+)?\s*ms|\bratio\b[^\n]*?\d+\.\d+", re.S)


@pytest.mark.parametrize("bench", BENCHES)
def test_bench_runs_and_prints_its_figures(bench, pg_available, kafka_broker, tmp_path, request):
    args = ["3"]
    if bench == "bench_dashboard.py":  # `itp run` on the demo region: seeded once a session, not once a bench
        args.append(str(copy_data_dir(request.getfixturevalue("demo_region_data"), tmp_path)))
    done = subprocess.run([sys.executable, str(ROOT / "bench" / bench), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert FIGURES.search(done.stdout), done.stdout[-2000:]
