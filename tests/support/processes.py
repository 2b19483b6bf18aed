"""The system as its own process, as a new user starts it."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from itp.testing import free_port


def start_embedded(tmp_path) -> tuple[str, subprocess.Popen]:
    """`itp run` on a free port with its data in tmp_path; returns once the gateway is ready."""
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
