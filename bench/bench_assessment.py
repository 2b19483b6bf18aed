"""`make bench-assessment`: p50/p99 through the gateway (in-process ASGI via httpx: token checks in the
gateway and in assessment, the access-log row, the row lock, the state machine, the outbox write) for
recording an arrival, issuing the Initial Pathway Plan, reading a placement and reading a page of them,
on Postgres and on the embedded SQLite mode. The baseline, measured in the same run, is the same
placement read straight from the assessment service (no gateway), so the ratio is what the door costs.
Placements are created as admission.accepted would create them (the consumer's own function).
Not a test: it prints figures."""
from __future__ import annotations

import asyncio
import statistics
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import migrated_systems, pct  # noqa: E402
import httpx  # noqa: E402

from itp.system import build_system  # noqa: E402
from libs.common.auth import KeyStore, mint_service_token, mint_token  # noqa: E402
from libs.common.events.catalogue import AdmissionAccepted  # noqa: E402
from libs.common.events.envelope import EventEnvelope  # noqa: E402
from services.assessment.handlers import on_admission_accepted, placement_id_for  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 200
SECTIONS = {s: f"{s} text" for s in ("needs_and_history_summary", "safety_and_risk_plan", "therapeutic_plan",
                                     "education_plan", "health_plan", "family_and_network", "step_down_goals")}
BASELINE = "GET placement, straight to assessment (baseline)"


def report(name: str, ms: list[float]) -> None:
    print(f"  {name:<50} n={len(ms):<5} p50 {statistics.median(ms):7.2f} ms   p99 {pct(ms, 99):7.2f} ms")


async def timed(timings: dict, name: str, call):
    t = time.perf_counter()
    r = await call
    timings.setdefault(name, []).append((time.perf_counter() - t) * 1000)
    assert r.status_code < 300, r.text
    return r


async def run(overrides: dict) -> dict[str, list[float]]:
    # the per-client rate limit would throttle one client's sequential requests (bench-gateway measures it)
    system = build_system(**overrides, gateway_rate_limit_per_second=1e6, gateway_rate_limit_burst=10**6)
    runtime = system.runtime("assessment")
    keys = KeyStore(system.runtime("gateway").settings.resolved_keys_file)
    hub = {"Authorization": "Bearer " + mint_token(keys, client_id="bench", role="hub", ttl_seconds=3600)}
    # straight to the service (bypassing the door): services accept only the gateway's internal tokens
    hub_direct = {"Authorization": "Bearer " + mint_service_token(keys, client_id="bench", role="hub", ttl_seconds=3600)}
    timings: dict[str, list[float]] = {}
    async with system.gateway.router.lifespan_context(system.gateway):
        ids = []
        home = uuid.uuid4()
        for _ in range(N):
            admission = AdmissionAccepted(admission_id=uuid.uuid4(), referral_id=uuid.uuid4(), home_id=home,
                                          bed_id=uuid.uuid4(), planned_start_date=date.today())
            event = EventEnvelope(type="admission.accepted", producer="bench", subject_id=str(admission.referral_id),
                                  la_code="E10000018", payload=admission.model_dump(mode="json"))
            async with runtime.uow() as uow:
                await on_admission_accepted(uow, event, admission)
                await uow.commit()
            ids.append(placement_id_for(admission.admission_id))
        arrival = str(date.today() - timedelta(days=20))
        gateway = httpx.AsyncClient(transport=httpx.ASGITransport(app=system.gateway), base_url="http://bench")
        service = httpx.AsyncClient(transport=httpx.ASGITransport(app=system.services["assessment"]),
                                    base_url="http://assessment")
        async with gateway as c, service:
            for pid in ids:
                await timed(timings, "POST arrival", c.post(f"/v1/placements/{pid}/arrival", json={
                    "arrival_date": arrival}, headers={**hub, "Idempotency-Key": str(uuid.uuid4())}))
                plan = await c.get(f"/v1/placements/{pid}/plan", headers=hub)
                await c.patch(f"/v1/plans/{plan.json()['id']}", json={"sections": SECTIONS},
                              headers={**hub, "If-Match": plan.headers["etag"]})
                await timed(timings, "POST plan issue", c.post(f"/v1/plans/{plan.json()['id']}/issue",
                                                               headers={**hub, "Idempotency-Key": str(uuid.uuid4())}))
            for pid in ids:
                await timed(timings, BASELINE, service.get(f"/v1/placements/{pid}", headers=hub_direct))
                await timed(timings, "GET placement, through the gateway", c.get(f"/v1/placements/{pid}", headers=hub))
            for _ in range(max(N // 4, 1)):
                await timed(timings, f"GET /v1/placements?home=... page of 50 (of {N})",
                            c.get("/v1/placements", params={"home": str(home), "limit": 50}, headers=hub))
    return timings


async def main() -> None:
    async with migrated_systems() as (postgres, embedded):
        figures = {"Postgres 15": await run(postgres), "embedded SQLite": await run(embedded)}
    print(f"\nbench-assessment: {N} placements, sequential requests, one client, in-process ASGI\n")
    for label, timings in figures.items():
        print(label)
        for name, ms in timings.items():
            report(name, ms)
        door = statistics.median(timings["GET placement, through the gateway"]) / statistics.median(timings[BASELINE])
        print(f"  ratio GET placement through the gateway / straight to the service at p50: {door:.2f}x\n")


if __name__ == "__main__":
    asyncio.run(main())
