"""`make bench-gateway`: what the council door costs and how fast a webhook arrives. Not a test: it prints figures.

1. GET /v1/referrals/{id} through the gateway (token check, rate limit, security headers, the access-log
   row written before the answer leaves, the proxy) next to the same call made straight to the referral
   service, so the difference is the door.
2. POST /v1/referrals -> the council's webhook receiver holds the signed referral.received delivery:
   outbox, relay, broker, the gateway's fan-out transaction, the delivery worker, HTTP to a local receiver.
3. A wrong-secret flood at /oauth/token (40 a second from one address, as the hostile test ran it, and
   then from 40 addresses with made-up client ids): another client's p50 for a token request plus a read, before and during, and
   how many scrypt checks the flood cost (docs/decisions/0005-door-tokens.md).
Both over Kafka (Tansu) + Postgres and embedded (in-process bus + SQLite).
"""
from __future__ import annotations

import asyncio
import base64
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import migrated_systems, pct, warm_up  # noqa: E402
import httpx  # noqa: E402

from itp.system import build_system  # noqa: E402
from services.gateway.clients import create_client  # noqa: E402
from services.gateway.oauth import authenticator_of  # noqa: E402
from libs.common.auth import KeyStore, mint_service_token, mint_token  # noqa: E402
from itp.testing import Broker  # noqa: E402
from itp.testing import Receiver  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 300
WARMUP = warm_up(N)
BODY = {"child_ref": "BENCH-1", "date_of_birth": "2012-03-14", "sex": "female", "urgency": "crisis",
        "home_postcode": "LE4 6AB", "needs": [{"code": "mental_health", "severity": "high"}],
        "social_worker": {"name": "Bench Worker", "email": "bench@example.gov.uk"}}


def line(label: str, values: list[float]) -> str:
    return (f"{label:<56} p50 {statistics.median(values):7.2f} ms   p99 {pct(values, 99):7.2f} ms   "
            f"mean {statistics.fmean(values):7.2f} ms   n={len(values)}")


async def timed(n: int, call) -> list[float]:
    out = []
    for i in range(n + WARMUP):
        t0 = time.perf_counter()
        await call(i)
        if i >= WARMUP:
            out.append((time.perf_counter() - t0) * 1000)
    return out


async def run(overrides: dict) -> dict[str, list[float]]:
    system = build_system(**overrides, gateway_rate_limit_per_second=1e6, gateway_rate_limit_burst=10**6,
                          webhook_allow_http_localhost=True)
    gateway = system.gateway
    results = {}
    async with gateway.router.lifespan_context(gateway), Receiver() as rx:
        keys = KeyStore(system.runtime("gateway").settings.resolved_keys_file)
        claims = dict(client_id="bench", la_code="E10000018", scopes=["referrals:write", "referrals:read", "webhooks:manage"],
                      ttl_seconds=3600)
        headers = {"Authorization": f"Bearer {mint_token(keys, **claims)}"}
        # straight to the service (bypassing the door): services accept only the gateway's internal tokens
        direct_headers = {"Authorization": f"Bearer {mint_service_token(keys, **claims)}"}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url="http://gw") as door, \
                httpx.AsyncClient(transport=httpx.ASGITransport(app=system.services["referral"]),
                                  base_url="http://referral") as direct:
            created = await door.post("/v1/referrals", json=BODY, headers={**headers, "Idempotency-Key": str(uuid.uuid4())})
            referral_id = created.json()["id"]

            async def via_door(_):
                assert (await door.get(f"/v1/referrals/{referral_id}", headers=headers)).status_code == 200

            async def straight(_):
                assert (await direct.get(f"/v1/referrals/{referral_id}", headers=direct_headers)).status_code == 200
            results["direct"] = await timed(N, straight)
            results["door"] = await timed(N, via_door)

            hook = await door.post("/v1/webhooks", json={"url": rx.url, "event_types": ["referral.received"]},
                                   headers=headers)
            assert hook.status_code == 201, hook.text

            async def to_webhook(_):
                before = len(rx.received)
                r = await door.post("/v1/referrals", json=BODY, headers={**headers, "Idempotency-Key": str(uuid.uuid4())})
                assert r.status_code == 201, r.text
                while len(rx.received) == before:
                    await asyncio.sleep(0.001)
            results["webhook"] = await timed(min(N, max(50, N // 3)), to_webhook)
        results.update(await credential_flood(system, n=min(N, 60)))
    return results


FORM = "grant_type=client_credentials"


def basic(client_id: str, secret: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode(),
            "content-type": "application/x-www-form-urlencoded"}


async def credential_flood(system, per_second: float = 40, n: int = 60) -> dict[str, list[float]]:
    """Another client's token request + read, with no flood, with wrong secrets from one address and from
    40 addresses (each within its own budget) at `per_second`."""
    gateway = system.gateway
    async with system.runtime("gateway").db.session() as session, session.begin():
        victim = await create_client(session, name="bench victim", la_code="E10000018")
        target = await create_client(session, name="bench target", la_code="E06000016")
    auth = authenticator_of(gateway)
    out: dict[str, list[float]] = {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url="http://gw") as door:
        async def victim_call(_):
            issued = await door.post("/oauth/token", content=FORM, headers=basic(victim["client_id"], victim["client_secret"]))
            assert issued.status_code == 200, issued.text
            read = await door.get("/v1/referrals", headers={"Authorization": f"Bearer {issued.json()['access_token']}"})
            assert read.status_code == 200

        async def flood(stop: asyncio.Event, addresses: int, codes: list[int]):
            clients = [httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway, client=(f"198.51.100.{i + 1}", 4000)),
                                         base_url="http://gw") for i in range(addresses)]
            pending, i = set(), 0

            async def one(k: int):
                # one address: wrong secrets for a real client; many: made-up client ids (no client-id budget)
                client_id = target["client_id"] if addresses == 1 else f"made-up-{k}"
                r = await clients[k % addresses].post("/oauth/token", content=FORM, headers=basic(client_id, f"wrong-{k}"))
                codes.append(r.status_code)
            while not stop.is_set():
                pending.add(asyncio.create_task(one(i)))
                i += 1
                await asyncio.sleep(1 / per_second)
            await asyncio.gather(*pending)
            for c in clients:
                await c.aclose()

        out["flood:none"] = await timed(n, victim_call)
        for addresses in (1, 40):
            stop, codes = asyncio.Event(), []
            hashes = auth.hashes
            task = asyncio.create_task(flood(stop, addresses, codes))
            await asyncio.sleep(0.5)
            out[f"flood:{addresses}"] = await timed(n, victim_call)
            stop.set()
            await task
            out[f"flood:{addresses}:stats"] = [len(codes), codes.count(401), codes.count(429), auth.hashes - hashes]
    return out


async def main() -> None:
    broker = Broker()
    broker.start()
    try:
        async with migrated_systems(broker.bootstrap) as (kafka, inproc):
            on_kafka = await run(kafka)
            embedded = await run(inproc)
        print(f"\nbench-gateway: {N} sequential reads after {WARMUP} warm-up; Tansu broker + Postgres, and embedded\n")
        for label, r in (("Kafka + Postgres", on_kafka), ("embedded (in-process bus + SQLite)", embedded)):
            print(label)
            print(line("  GET /v1/referrals/{id} straight to the service", r["direct"]))
            print(line("  GET /v1/referrals/{id} through the door (+ audit row)", r["door"]))
            print(f"  {'door overhead':<54} p50 {statistics.median(r['door']) - statistics.median(r['direct']):7.2f} ms")
            print(line("  POST /v1/referrals -> signed webhook received", r["webhook"]))
            print(line("  other client: token + read, no flood", r["flood:none"]))
            for addresses in (1, 40):
                sent, unauthorized, limited, hashed = r[f"flood:{addresses}:stats"]
                print(line(f"  other client: token + read, flood from {addresses} addr", r[f"flood:{addresses}"]))
                print(f"    flood: {sent} wrong secrets at 40/s -> {unauthorized} x 401, {limited} x 429; "
                      f"{hashed} scrypt checks (the other client's cached secret: none)")
    finally:
        broker.stop()


if __name__ == "__main__":
    import logging
    logging.disable(logging.WARNING)
    asyncio.run(main())
