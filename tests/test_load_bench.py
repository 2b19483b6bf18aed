"""bench/load.py (`make load`) without the deployment: its reading of wrk's summary and its own load generator
against a small local server, a few requests each (the full run is `make load`, never a test)."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("bench_load", ROOT / "bench" / "load.py")
load = importlib.util.module_from_spec(spec)
sys.modules["bench_load"] = load  # its dataclasses look their module up
spec.loader.exec_module(load)

WRK = """Running 10s test @ http://127.0.0.1:8000/v1/referrals/x
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    47.20ms   20.18ms 301.88ms   80.12%
    Req/Sec   340.11     51.97   450.00     71.00%
  Latency Distribution
     50%   43.80ms
     75%   55.02ms
     90%   70.11ms
     99%    1.21s
  6781 requests in 10.02s, 10.14MB read
  Socket errors: connect 0, read 1, write 0, timeout 2
  Non-2xx or 3xx responses: 4
Requests/sec:    676.75
Transfer/sec:      1.01MB
"""


def test_wrk_summary_is_read_into_throughput_percentiles_and_errors():
    f = load.parse_wrk(WRK)
    assert (f.requests, f.seconds, f.p50_ms, f.p99_ms, f.errors) == (6781, 10.02, 43.8, 1210.0, 7)
    assert f.rps == pytest.approx(676.75, rel=1e-3)
    with pytest.raises(ValueError):
        load.parse_wrk("wrk: command not found")


async def test_the_python_load_generator_counts_answers_latencies_and_errors():
    seen = []

    async def handler(request):
        seen.append(request.headers.get("authorization"))
        return web.json_response({"ok": True}, status=200 if len(seen) % 5 else 503)

    app = web.Application()
    app.router.add_get("/v1/referrals/x", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        f = await load.closed_loop(f"http://127.0.0.1:{port}/v1/referrals/x", {"Authorization": "Bearer t"}, 4,
                                   requests=20)
    finally:
        await runner.cleanup()
    assert f.requests == 20 == len(seen) and set(seen) == {"Bearer t"}
    assert f.errors == 4  # every fifth answer was a 503
    assert 0 < f.p50_ms <= f.p99_ms and f.rps > 0
    assert "errors 4" in f.line()


def test_every_kind_of_every_mix_is_one_the_clients_do_and_the_pathway_mix_is_mostly_reads():
    for weights in load.MIXES.values():
        assert set(weights) <= set(load.KIND_LABELS) and all(w > 0 for w in weights.values())
    pathway = load.MIXES["pathway"]
    writes = pathway["post"] + pathway["hub"] + pathway["move"]  # a decision is a GET and a POST
    assert writes / (sum(pathway.values()) + pathway["hub"]) < 0.2


def test_a_process_of_the_deployment_is_named_by_what_it_runs():
    import os
    assert load._label(os.getpid()) in {"other", "serve gateway"}  # pytest itself: not a service, relay or broker
    assert load._label(2 ** 22 + 7) == "gone"


def test_pinned_holds_a_process_tree_to_its_cores_and_gives_every_thread_its_cpus_back():
    """--core-scaling's Pinned on a small process tree of its own (Postgres left alone here): the tree on the first
    core, this process (the load generator) on the others; then each as it was, and a process the tree started
    while pinned (it inherited the pin, as a backend the postmaster forks does) gets every CPU back too."""
    import os
    import subprocess

    every = os.sched_getaffinity(0)
    first = {min(every)}
    spawner = ("import subprocess, sys\n"
               "sys.stdin.readline()\n"
               "late = subprocess.Popen(['sleep', '30'])\n"
               "print(late.pid, flush=True)\n"
               "late.wait()\n")
    tree = subprocess.Popen([sys.executable, "-c", spawner], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    late = None
    try:
        pinned = load.Pinned(tree.pid, 1, postgres=False)
        assert pinned.pin() == 1  # the tree: its root alone so far
        assert os.sched_getaffinity(tree.pid) == first
        assert os.sched_getaffinity(0) == (every - first or every)
        tree.stdin.write("go\n")
        tree.stdin.flush()
        late = int(tree.stdout.readline())
        assert os.sched_getaffinity(late) == first  # inherited
        pinned.restore()
        assert os.sched_getaffinity(tree.pid) == every and os.sched_getaffinity(late) == every
        assert os.sched_getaffinity(0) == every
    finally:
        if late:
            os.kill(late, 9)
        tree.kill()
        tree.wait()
