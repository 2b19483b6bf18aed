"""`make bench-referrals`: latency of the referral API through the gateway (in-process ASGI), on
Postgres and on the embedded SQLite mode. Not a test: it prints figures.

Each request pays: the gateway (token check, routing), the referral service (token check again,
validation, the council-narrowed query), and for writes the row, the outbox row and the commit.
"""
from __future__ import annotations

import asyncio
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import migrated_systems, pct  # noqa: E402
import httpx  # noqa: E402

from itp.system import build_system  # noqa: E402
from libs.common.auth import KeyStore, mint_token  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 300
WARMUP = 20
BODY = {"child_ref": "BENCH-1", "date_of_birth": "2012-03-14", "sex": "female", "legal_status": "C2",
        "urgency": "crisis", "home_postcode": "LE4 6AB", "wanted_start_date": "2026-11-30",
        "needs": [{"code": "mental_health", "severity": "high"}], "risks": [{"code": "self_harm", "severity": "low"}],
        "social_worker": {"name": "Bench Worker", "email": "bench@example.gov.uk"}}
URGENCIES = ("crisis", "urgent", "planned")


def line(label: str, values: list[float]) -> str:
    return (f"  {label:<44} p50 {statistics.median(values):7.2f} ms   p99 {pct(values, 99):7.2f} ms   "
            f"n={len(values)}")


async def timed(results: dict, name: str, i: int, call):
    t0 = time.perf_counter()
    r = await call
    ms = (time.perf_counter() - t0) * 1000
    assert r.status_code < 300, r.text
    if i >= WARMUP:
        results.setdefault(name, []).append(ms)
    return r


async def run(overrides: dict) -> tuple[dict, float]:
    # the per-client rate limit would throttle one client's sequential requests; it is measured by bench-gateway
    system = build_system(**overrides, gateway_rate_limit_per_second=1e6, gateway_rate_limit_burst=10**6)
    gateway = system.gateway
    results: dict[str, list[float]] = {}
    async with gateway.router.lifespan_context(gateway):
        keys = KeyStore(system.runtime("gateway").settings.resolved_keys_file)
        council = {"Authorization": "Bearer " + mint_token(keys, client_id="bench", la_code="E10000018",
                                                           scopes=["referrals:write", "referrals:read"],
                                                           ttl_seconds=3600)}
        hub = {"Authorization": "Bearer " + mint_token(keys, client_id="bench-hub", role="hub", ttl_seconds=3600)}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url="http://gw") as client:
            for i in range(N + WARMUP):
                key = f"bench-{uuid.uuid4()}"
                body = {**BODY, "urgency": URGENCIES[i % 3]}
                made = await timed(results, "POST /v1/referrals (new key)", i, client.post(
                    "/v1/referrals", json=body, headers={**council, "Idempotency-Key": key}))
                await timed(results, "POST /v1/referrals (replayed key)", i, client.post(
                    "/v1/referrals", json=body, headers={**council, "Idempotency-Key": key}))
                rid = made.json()["id"]
                await timed(results, "GET /v1/referrals/{id}", i, client.get(f"/v1/referrals/{rid}", headers=council))
                await timed(results, "PATCH /v1/referrals/{id} (If-Match)", i, client.patch(
                    f"/v1/referrals/{rid}", json={"risks": [{"code": "self_harm", "severity": "high"}]},
                    headers={**council, "If-Match": made.headers["etag"]}))
            for i in range(N + WARMUP):
                await timed(results, f"GET /v1/referrals?limit=50 (of {N + WARMUP})", i,
                            client.get("/v1/referrals?limit=50", headers=council))
                await timed(results, "GET ?awaiting=decision&limit=50 (hub)", i,
                            client.get("/v1/referrals?awaiting=decision&limit=50", headers=hub))
            t0 = time.perf_counter()
            storm = await asyncio.gather(*[client.post("/v1/referrals", json=BODY,
                                                       headers={**council, "Idempotency-Key": "storm"})
                                           for _ in range(50)])
            storm_ms = (time.perf_counter() - t0) * 1000
            assert sorted(r.status_code for r in storm) == [200] * 49 + [201]
    return results, storm_ms


async def main() -> None:
    async with migrated_systems() as (postgres, embedded):
        figures = {"Postgres 15": await run(postgres), "embedded SQLite": await run(embedded)}
        print(f"\nbench-referrals: {N} sequential requests of each kind after {WARMUP} warm-up, through the gateway "
              f"(in-process ASGI), one client\n")
        for label, (results, storm_ms) in figures.items():
            print(label)
            for name, values in results.items():
                print(line(name, values))
            print(f"  50 concurrent POSTs, one Idempotency-Key: one referral, all answered in {storm_ms:.0f} ms\n")


if __name__ == "__main__":
    import logging
    logging.disable(logging.WARNING)
    asyncio.run(main())
