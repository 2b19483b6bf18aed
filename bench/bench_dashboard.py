"""First page load of the hub dashboard on the demo region (target: under 300 ms).

Starts `itp run` (the demo region seeded, embedded mode) on a free port, signs in as the hub, and prints the
first load of the homes and beds board (the page the hub opens first), then p50/p99 of N more loads of each
page (N = the first argument, default 20), over real HTTP on this machine. Run: make bench-dashboard
`python bench/bench_dashboard.py [N] [DATA_DIR]`: DATA_DIR, a data directory the demo region is already seeded in
(the smoke test's copy of its session's), starts `itp run` there in a second or two; default a fresh one."""
from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from itp.testing import free_port  # noqa: E402

TARGET_MS = 300
PAGES = ["/dashboard/board", "/dashboard/referrals", "/dashboard/deadlines", "/dashboard/finance", "/dashboard/outcomes",
         "/dashboard/outreach"]


def start(data_dir: str) -> tuple[str, subprocess.Popen]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "itp.cli", "run", "--port", str(port), "--data-dir", data_dir],
                            env={**os.environ, "ITP_LOG_LEVEL": "WARNING"}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                return base, proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("itp run did not become ready")


def main(samples: int, data_dir: str | None = None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        base, proc = start(data_dir or tmp)
        print(f"itp run ready with the demo region {'found' if data_dir else 'seeded'} in "
              f"{time.perf_counter() - t0:.1f} s")
        try:
            with httpx.Client(base_url=base) as c:
                csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/dashboard/sign-in").text).group(1)
                r = c.post("/dashboard/sign-in", data={"csrf": csrf, "client_id": "demo-hub",
                                                       "client_secret": "demo-hub-secret"})
                assert r.status_code == 303, r.status_code
                t = time.perf_counter()
                first = c.get(PAGES[0])
                first_ms = (time.perf_counter() - t) * 1000
                assert first.status_code == 200
                verdict = "OK" if first_ms < TARGET_MS else "OVER TARGET"
                print(f"first load of {PAGES[0]}: {first_ms:.0f} ms (target < {TARGET_MS} ms: {verdict}), "
                      f"{len(first.content) / 1024:.0f} KiB")
                for path in PAGES:
                    times = []
                    for _ in range(samples):
                        t = time.perf_counter()
                        assert c.get(path).status_code == 200
                        times.append((time.perf_counter() - t) * 1000)
                    times.sort()
                    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
                    print(f"{path:<24} p50 {statistics.median(times):6.0f} ms   p99 {p99:6.0f} ms")
                    if path == PAGES[0]:  # the cold cost left: what the first load pays over a warm one
                        warm = statistics.median(times)
                        print(f"{'':<24} first load / warm p50: ratio {first_ms / warm if warm else float('nan'):.2f} "
                              f"(one-time work is done at start-up, before /health/ready; 1.0 is no cold cost)")
        finally:
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20, sys.argv[2] if len(sys.argv) > 2 else None)
