"""`itp webhooks listen`: an integrator's local receiver for a demo council, against `itp run` as started by
`make run`. It prints each verified delivery (Standard Webhooks signature checked) and removes its endpoint
on exit; a delivery with a wrong signature is refused and never printed as verified."""
from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
import uuid

import httpx
import pytest

from itp.cli import verify_delivery

from .support.processes import start_embedded, stop


def _token(base: str, client_id: str) -> dict:
    resp = httpx.post(f"{base}/oauth/token", data={"grant_type": "client_credentials"},
                      auth=(client_id, f"{client_id}-secret"))
    resp.raise_for_status()
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


def _lines(stream, into: queue.Queue) -> None:
    for line in stream:
        into.put(line)


def _next_json(lines: queue.Queue, key: str, timeout: float = 30) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if key in value:
            return value
    pytest.fail(f"no line with {key!r} within {timeout}s")


@pytest.fixture
def embedded(tmp_path, demo_region_data):
    base, proc = start_embedded(tmp_path, seeded=demo_region_data)
    yield base
    stop(proc)


def test_listen_prints_each_verified_delivery_and_removes_its_endpoint_on_exit(embedded):
    base = embedded
    council = _token(base, "demo-leicestershire")
    listener = subprocess.Popen([sys.executable, "-m", "itp.cli", "webhooks", "listen", "--gateway", base,
                                 "--event", "referral.*", "--count", "1"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "ITP_LOG_LEVEL": "WARNING"})
    out, err = queue.Queue(), queue.Queue()
    threading.Thread(target=_lines, args=(listener.stdout, out), daemon=True).start()
    threading.Thread(target=_lines, args=(listener.stderr, err), daemon=True).start()
    try:
        started = _next_json(out, "listening")
        endpoints = httpx.get(f"{base}/v1/webhooks", headers=council).json()["items"]
        assert [e["url"] for e in endpoints] == [started["listening"]]
        # a forged delivery is refused and not printed as verified
        forged = httpx.post(started["listening"], content=b'{"type":"referral.received"}',
                            headers={"webhook-id": "msg_forged", "webhook-timestamp": str(int(time.time())),
                                     "webhook-signature": "v1,AAAA", "content-type": "application/json"})
        assert forged.status_code == 401
        assert _next_json(err, "rejected")["rejected"] == "msg_forged"
        # a real event about this council's child arrives, verified
        created = httpx.post(f"{base}/v1/referrals", headers={**council, "Idempotency-Key": str(uuid.uuid4())},
                             json={"child_ref": "LCC-LISTEN-1", "date_of_birth": "2012-03-14", "sex": "female",
                                   "urgency": "crisis", "home_postcode": "LE4 6AB", "legal_status": "C2",
                                   "social_worker": {"name": "Sam Patel", "email": "sam.patel@leics.gov.uk"}})
        assert created.status_code == 201, created.text
        delivery = _next_json(out, "verified", timeout=60)
        assert delivery["verified"] is True and delivery["type"].startswith("referral.")
        assert delivery["webhook_id"]
        removed = _next_json(out, "removed")
        assert removed == {"removed": started["endpoint_id"], "status": 204}
        assert listener.wait(20) == 0
        assert httpx.get(f"{base}/v1/webhooks", headers=council).json()["items"] == []
    finally:
        if listener.poll() is None:
            listener.kill()


def test_listen_removes_its_endpoint_when_stopped(embedded):
    base = embedded
    council = _token(base, "demo-leicestershire")
    listener = subprocess.Popen([sys.executable, "-m", "itp.cli", "webhooks", "listen", "--gateway", base],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out: queue.Queue = queue.Queue()
    threading.Thread(target=_lines, args=(listener.stdout, out), daemon=True).start()
    try:
        _next_json(out, "listening")
        assert len(httpx.get(f"{base}/v1/webhooks", headers=council).json()["items"]) == 1
        listener.terminate()
        assert _next_json(out, "removed")["status"] == 204
        listener.wait(20)
        assert httpx.get(f"{base}/v1/webhooks", headers=council).json()["items"] == []
    finally:
        if listener.poll() is None:
            listener.kill()


def test_the_signature_check_is_the_standard_webhooks_one():
    from standardwebhooks import Webhook

    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"type":"referral.received"}'
    now = int(time.time())
    signature = Webhook(secret).sign("msg_1", __import__("datetime").datetime.fromtimestamp(now), body.decode())
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(now), "webhook-signature": signature}
    assert verify_delivery([secret], headers, body)
    assert not verify_delivery([secret], {**headers, "webhook-id": "msg_2"}, body)
    assert not verify_delivery([secret], headers, body + b" ")
    assert not verify_delivery([secret], {**headers, "webhook-timestamp": str(now - 3600)}, body)
