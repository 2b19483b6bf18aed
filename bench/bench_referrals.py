"""`make bench-referrals`: latency of the referral API through the gateway (in-process ASGI), on
Postgres and on the embedded SQLite mode. Not a test: it prints figures.

Each request pays: the gateway (token check, routing), the referral service (token check again,
validation, the council-narrowed query), and for writes the row, the outbox row and the commit.

It also measures a hostile council (issue 10): a POST with 20,000 needs (940 KB, under the gateway's 1 MiB
limit) answered 422 `body.needs` `too_long`, and another council's GET while four such requests are in flight,
against the same GET on an idle system. Everything here shares one event loop (client, gateway, service),
so the GET's delay is the whole work of the four 422s, not only the service's.
"""
from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import migrated_systems, pct, warm_up  # noqa: E402
import httpx  # noqa: E402

from itp.system import build_system  # noqa: E402
from libs.common.auth import KeyStore, mint_token  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 300
WARMUP = warm_up(N)
BODY = {"child_ref": "BENCH-1", "date_of_birth": "2012-03-14", "sex": "female", "legal_status": "C2",
        "urgency": "crisis", "home_postcode": "LE4 6AB", "wanted_start_date": "2026-11-30",
        "needs": [{"code": "mental_health", "severity": "high"}], "risks": [{"code": "self_harm", "severity": "low"}],
        "social_worker": {"name": "Bench Worker", "email": "bench@example.gov.uk"}}
URGENCIES = ("crisis", "urgent", "planned")
HUGE = json.dumps({**BODY, "needs": [{"code": "mental_health", "severity": "high"}] * 20_000}).encode()


def line(label: str, values: list[float]) -> str:
    return (f"  {label:<44} p50 {statistics.median(values):7.2f} ms   p99 {pct(values, 99):7.2f} ms   "
            f"n={len(values)}")


async def timed(results: dict, name: str, i: int, call, *, warmup: int = WARMUP):
    t0 = time.perf_counter()
    r = await call
    ms = (time.perf_counter() - t0) * 1000
    assert r.status_code < 300, r.text
    if i >= warmup:
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
            # overlapping the first: 409 idempotency-key-in-flight; a retry then replays the first answer
            while any(r.status_code == 409 for r in storm):
                storm = [r if r.status_code != 409 else await client.post(
                    "/v1/referrals", json=BODY, headers={**council, "Idempotency-Key": "storm"}) for r in storm]
            storm_ms = (time.perf_counter() - t0) * 1000
            assert {r.status_code for r in storm} == {201} and len({r.json()["id"] for r in storm}) == 1
            assert sum("idempotent-replayed" not in r.headers for r in storm) == 1
            await hostile(client, keys, results)
    return results, storm_ms


async def hostile(client: httpx.AsyncClient, keys: KeyStore, results: dict) -> None:
    """A council sending 20,000 needs, and another council reading while four such requests run."""
    other = {"Authorization": "Bearer " + mint_token(keys, client_id="bench-other", la_code="E06000016",
                                                     scopes=["referrals:write", "referrals:read"], ttl_seconds=3600)}
    sender = {"Authorization": "Bearer " + mint_token(keys, client_id="bench-hostile", la_code="E10000018",
                                                      scopes=["referrals:write"], ttl_seconds=3600),
              "Content-Type": "application/json"}
    made = await client.post("/v1/referrals", json=BODY, headers={**other, "Idempotency-Key": str(uuid.uuid4())})
    path = f"/v1/referrals/{made.json()['id']}"

    async def huge():
        r = await client.post("/v1/referrals", content=HUGE, headers={**sender, "Idempotency-Key": str(uuid.uuid4())})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.needs", r.text[:300]
        return r

    rounds = max(N // 3, 3)
    for i in range(rounds + WARMUP // 4):
        await timed(results, "GET /v1/referrals/{id} (idle baseline)", i, client.get(path, headers=other),
                    warmup=WARMUP // 4)
    for i in range(rounds + WARMUP // 4):
        t0 = time.perf_counter()
        r = await huge()
        if i >= WARMUP // 4:
            results.setdefault("POST 20,000 needs -> 422 body.needs too_long", []).append(
                (time.perf_counter() - t0) * 1000)
    for i in range(rounds + WARMUP // 4):
        flood = [asyncio.create_task(huge()) for _ in range(4)]
        await timed(results, "GET /v1/referrals/{id} beside four such 422s", i, client.get(path, headers=other),
                    warmup=WARMUP // 4)
        await asyncio.gather(*flood)


async def main() -> None:
    async with migrated_systems() as (postgres, embedded):
        figures = {"Postgres 15": await run(postgres), "embedded SQLite": await run(embedded)}
        print(f"\nbench-referrals: {N} sequential requests of each kind after {WARMUP} warm-up, through the gateway "
              f"(in-process ASGI), one client\n")
        for label, (results, storm_ms) in figures.items():
            print(label)
            for name, values in results.items():
                print(line(name, values))
            print(f"  50 concurrent POSTs, one Idempotency-Key: one referral (overlapping ones 409 in flight, then "
                  f"replayed), all answered in {storm_ms:.0f} ms")
            refused = results["POST 20,000 needs -> 422 body.needs too_long"]
            idle = results["GET /v1/referrals/{id} (idle baseline)"]
            busy = results["GET /v1/referrals/{id} beside four such 422s"]
            print(f"  hostile: 20,000-needs 422 p50 {statistics.median(refused):.1f} / p99 {pct(refused, 99):.1f} ms; "
                  f"another council's GET beside four of them p50 {statistics.median(busy):.1f} / p99 "
                  f"{pct(busy, 99):.1f} ms vs idle p50 {statistics.median(idle):.1f} / p99 {pct(idle, 99):.1f} ms\n")


if __name__ == "__main__":
    import logging
    logging.disable(logging.WARNING)
    asyncio.run(main())
