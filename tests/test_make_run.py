"""What a new user does: `itp run` (what `make run` starts), then the docs and the API at the printed URL."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from .support import free_port


@pytest.fixture
def embedded_server(tmp_path):
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
    yield base, proc
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_itp_run_starts_the_whole_system_with_docs_and_demo_credentials(embedded_server):
    base, proc = embedded_server
    docs = httpx.get(f"{base}/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    spec = httpx.get(f"{base}/v1/openapi.json").json()
    assert "/v1/referrals" in spec["paths"] and "/v1/referrals/{referral_id}/matches" in spec["paths"]
    proc.terminate()
    out, _ = proc.communicate(timeout=10)
    assert f"Gateway:   {base}" in out
    assert f"API docs:  {base}/docs" in out
    assert "demo-leicestershire" in out and "demo-hub" in out
