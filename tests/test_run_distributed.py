"""`make run-distributed` as a user runs it: the distributed system on this machine (Postgres, Tansu, each
service and relay its own process under honcho, the gateway), ready in under a minute; a council refers a child
through the gateway and reads the referral back; Ctrl-C (SIGINT to the terminal's process group) leaves nothing
running."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest

from libs.common.db import drop_database

from .support import PG_ADMIN_URL, free_port, tansu_binary, unavailable
from .support.referrals import REFERRAL

ROOT = Path(__file__).resolve().parent.parent


def _children() -> dict[int, int]:
    """pid -> parent pid of every process on the machine."""
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
                out[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    return out


def _descendants(root: int) -> set[int]:
    parents = _children()
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture
def prerequisites(pg_available):
    try:
        tansu_binary()
    except RuntimeError as exc:
        unavailable("Tansu broker", str(exc))


def test_make_run_distributed_is_ready_in_a_minute_takes_a_referral_and_stops_on_ctrl_c(prerequisites, tmp_path):
    port, database = free_port(), f"itp_rd_{uuid.uuid4().hex[:8]}"
    args = f"--port {port} --database {database} --data-dir {tmp_path / 'data'}"
    env = {**os.environ, "ITP_PG_ADMIN_URL": PG_ADMIN_URL, "ITP_LOG_LEVEL": "WARNING"}
    log = open(tmp_path / "run-distributed.log", "w+")
    # -o: the venv is installed already (make would otherwise reinstall it when pyproject.toml is newer)
    proc = subprocess.Popen(["make", "--no-print-directory", "-o", ".venv/.installed", "run-distributed",
                             f"RUN_DISTRIBUTED_ARGS={args}"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)  # its own terminal-like group
    base = f"http://127.0.0.1:{port}"
    seen: set[int] = set()
    try:
        started = time.time()
        while True:
            seen |= _descendants(proc.pid)
            assert proc.poll() is None, f"run-distributed exited: {(tmp_path / 'run-distributed.log').read_text()}"
            try:
                if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.time() - started < 60, "the gateway was not ready within a minute"
            time.sleep(0.3)

        # the council's token: its demo client is seeded as soon as the services are ready
        deadline = time.time() + 20
        while True:
            issued = httpx.post(f"{base}/oauth/token", data={"grant_type": "client_credentials"},
                                auth=("demo-leicestershire", "demo-leicestershire-secret"), timeout=10)
            if issued.status_code == 200 or time.time() > deadline:
                break
            time.sleep(0.3)
        assert issued.status_code == 200, issued.text
        council = {"Authorization": f"Bearer {issued.json()['access_token']}"}
        created = httpx.post(f"{base}/v1/referrals", json=REFERRAL, timeout=20,
                             headers={**council, "Idempotency-Key": f"rd-{uuid.uuid4()}"})
        assert created.status_code == 201, created.text
        read = httpx.get(f"{base}/v1/referrals/{created.json()['id']}", headers=council, timeout=10)
        assert read.status_code == 200, read.text
        assert read.json()["child_ref"] == REFERRAL["child_ref"]

        seen |= _descendants(proc.pid)
        assert len(seen) >= 12, "each service, relay, the gateway and the broker run as processes of their own"
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in the terminal
        proc.wait(30)
        time.sleep(0.5)
        survivors = [pid for pid in seen if _alive(pid)]
        assert not survivors, f"still running after Ctrl-C: {survivors}"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        for pid in seen:
            if _alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        log.close()
        asyncio.run(drop_database(PG_ADMIN_URL, database))
