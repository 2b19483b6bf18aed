"""The distributed shape, each part its own process as docker-compose runs them: `itp migrate` provisions
schemas and roles, `itp serve` runs each service without its relay, `itp relay` publishes the outbox from
another process (woken by Postgres NOTIFY), and the gateway forwards over HTTP."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx

from itp.testing import pg_template
from libs.common.auth import KeyStore, mint_token

from .support import PG_ADMIN_URL, free_port, wait_for
from .support.referrals import REFERRAL


def _start(args, env, log):
    return subprocess.Popen([sys.executable, "-m", "itp.cli", *args], env=env, stdout=log, stderr=subprocess.STDOUT)


def _wait_ready(url: str, procs, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for p in procs:
            if p.poll() is not None:
                raise AssertionError(f"a process exited with {p.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} not ready")


async def test_separate_processes_with_a_standalone_relay_carry_a_referral_to_matching(pg_database, kafka_broker,
                                                                                     tmp_path):
    keys = tmp_path / "keys.json"
    KeyStore(keys).ensure()
    env = {**os.environ, "ITP_TRANSPORT": "kafka", "ITP_KAFKA_BOOTSTRAP_SERVERS": kafka_broker.bootstrap,
           "ITP_KAFKA_ENABLE_IDEMPOTENCE": "false", "ITP_KAFKA_FETCH_MAX_WAIT_MS": "10",
           "ITP_KAFKA_TOPIC_PREFIX": f"dist{os.getpid()}.", "ITP_DATABASE_URL_TEMPLATE": pg_template(pg_database),
           "ITP_KEYS_FILE": str(keys), "ITP_DATA_DIR": str(tmp_path), "ITP_LOG_LEVEL": "WARNING",
           "ITP_OUTBOX_POLL_SECONDS": "60"}  # only NOTIFY can wake the relay in time
    migrated = subprocess.run([sys.executable, "-m", "itp.cli", "migrate"], env={**env, "ITP_PG_ADMIN_URL": PG_ADMIN_URL},
                              capture_output=True, text=True, timeout=120)
    assert migrated.returncode == 0, migrated.stderr

    created_client = subprocess.run([sys.executable, "-m", "itp.cli", "client", "create", "--name", "dist council",
                                     "--la", "E10000018"], env=env, capture_output=True, text=True, timeout=60)
    assert created_client.returncode == 0, created_client.stderr
    council_client = json.loads(created_client.stdout)

    ports = {name: free_port() for name in ("referral", "matching", "gateway")}
    # the services verify tokens with the keys the gateway publishes, as in production
    jwks = {"ITP_JWKS_URL": f"http://127.0.0.1:{ports['gateway']}/.well-known/jwks.json"}
    log = open(tmp_path / "processes.log", "w")
    procs = []
    try:
        procs.append(_start(["serve", "referral", "--port", str(ports["referral"])],
                            {**env, **jwks, "ITP_RELAY_ENABLED": "false"}, log))
        procs.append(_start(["relay", "referral"], env, log))
        procs.append(_start(["serve", "matching", "--port", str(ports["matching"])], {**env, **jwks}, log))
        procs.append(_start(["serve", "gateway", "--port", str(ports["gateway"])],
                            {**env, "ITP_REFERRAL_URL": f"http://127.0.0.1:{ports['referral']}",
                             "ITP_MATCHING_URL": f"http://127.0.0.1:{ports['matching']}"}, log))
        for name, port in ports.items():
            _wait_ready(f"http://127.0.0.1:{port}/health/ready", procs)

        hub = {"Authorization": "Bearer " + mint_token(KeyStore(keys), client_id="h", role="hub")}
        gateway = f"http://127.0.0.1:{ports['gateway']}"
        async with httpx.AsyncClient(base_url=gateway, timeout=10) as client:
            issued = await client.post("/oauth/token", data={"grant_type": "client_credentials"},
                                       auth=(council_client["client_id"], council_client["client_secret"]))
            assert issued.status_code == 200, issued.text
            council = {"Authorization": f"Bearer {issued.json()['access_token']}"}
            created = await client.post("/v1/referrals", json=REFERRAL,
                                        headers={**council, "X-Request-ID": "dist-1", "Idempotency-Key": "dist-1"})
            assert created.status_code == 201, created.text
            assert created.headers["x-request-id"] == "dist-1"
            # one Date and one Server header: the gateway's server's, none copied from the service's answer
            assert len(created.headers.get_list("date")) == 1 and len(created.headers.get_list("server")) == 1
            referral_id = created.json()["id"]

            # the service's own port is reachable, but a council's token is no good there: every read of a
            # child's record goes through the door and its access log (docs/decisions/0005-door-tokens.md)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports['referral']}", timeout=10) as direct:
                bypass = await direct.get(f"/v1/referrals/{referral_id}", headers=council)
                assert bypass.status_code == 401 and bypass.json()["detail"] == "token not accepted here"
            through = await client.get(f"/v1/referrals/{referral_id}", headers=council)
            assert through.status_code == 200, through.text

            async def listed():
                r = await client.get(f"/v1/referrals/{referral_id}/matches", headers=hub)
                return r if r.status_code == 200 else None
            matches = await wait_for(listed, timeout=20)
            assert matches.json()["referral_status"] == "awaiting_decision"
            spec = (await client.get("/v1/openapi.json")).json()
            assert "/v1/referrals/{referral_id}/matches" in spec["paths"]
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        log.close()
