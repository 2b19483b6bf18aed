"""The system as its own process, as a new user starts it."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from itp.testing import free_port


def seed_demo_region(data_dir: Path) -> Path:
    """What `itp run` does before it serves (migrate, then seed the demo clients, the blueprint children and the
    demo region), in processes of their own: `itp migrate` and `itp seed blueprint` on `data_dir`."""
    env = {**os.environ, "ITP_DATA_DIR": str(data_dir), "ITP_LOG_LEVEL": "WARNING"}
    for command in (["migrate"], ["seed", "blueprint"]):
        done = subprocess.run([sys.executable, "-m", "itp.cli", *command], env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, f"itp {' '.join(command)}: {done.stdout[-2000:]}{done.stderr[-2000:]}"
    return data_dir


def copy_data_dir(seeded: Path, tmp_path: Path) -> Path:
    """A copy of a seeded data directory (its databases and signing keys, not its logs) at tmp_path/data:
    `itp run` on it finds the demo region there and adds nothing, so it is ready in a second or two."""
    data_dir = tmp_path / "data"
    shutil.copytree(seeded, data_dir, ignore=shutil.ignore_patterns("logs"))
    return data_dir


def start_embedded(tmp_path, seeded: Path | None = None) -> tuple[str, subprocess.Popen]:
    """`itp run` on a free port with its data in tmp_path; returns once the gateway is ready. With `seeded` (the
    session's demo_region_data) it runs on a copy of that demo region instead of seeding its own (about 20 s)."""
    if seeded is not None:
        copy_data_dir(seeded, tmp_path)
    port = free_port()
    env = {**os.environ, "ITP_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen([sys.executable, "-m", "itp.cli", "run", "--port", str(port), "--data-dir",
                             str(tmp_path / "data")], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"itp run exited: {proc.stdout.read()}")
        try:
            if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("itp run did not become ready")
    return base, proc


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
