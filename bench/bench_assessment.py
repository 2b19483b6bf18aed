"""`make bench-assessment`: p50/p99 through the gateway (in-process ASGI via httpx, embedded mode on
SQLite: token checks in the gateway and in assessment, the row lock, the state machine, the outbox write)
for recording an arrival, issuing the Initial Pathway Plan and reading a placement.
Placements are created as admission.accepted would create them (the consumer's own function).
Not a test: it prints figures."""
from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from itp.system import build_system, migrate_all  # noqa: E402
from libs.common.auth import KeyStore, mint_token  # noqa: E402
from libs.common.events.catalogue import AdmissionAccepted  # noqa: E402
from libs.common.events.envelope import EventEnvelope  # noqa: E402
from services.assessment.handlers import on_admission_accepted, placement_id_for  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 200
SECTIONS = {s: f"{s} text" for s in ("needs_and_history_summary", "safety_and_risk_plan", "therapeutic_plan",
                                     "education_plan", "health_plan", "family_and_network", "step_down_goals")}


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def report(name: str, ms: list[float]) -> None:
    print(f"{name:<28} n={len(ms):<5} p50 {statistics.median(ms):7.2f} ms   p99 {pct(ms, 99):7.2f} ms")


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        overrides = dict(transport="inprocess", data_dir=Path(tmp), log_level="WARNING")
        await migrate_all(**overrides)
        system = build_system(**overrides)
        runtime = system.runtime("assessment")
        keys = KeyStore(system.runtime("gateway").settings.resolved_keys_file)
        hub = {"Authorization": "Bearer " + mint_token(keys, client_id="bench", role="hub", ttl_seconds=3600)}
        async with system.gateway.router.lifespan_context(system.gateway):
            ids = []
            for _ in range(N):
                admission = AdmissionAccepted(admission_id=uuid.uuid4(), referral_id=uuid.uuid4(), home_id=uuid.uuid4(),
                                              bed_id=uuid.uuid4(), planned_start_date=date.today())
                event = EventEnvelope(type="admission.accepted", producer="bench", subject_id=str(admission.referral_id),
                                      la_code="E10000018", payload=admission.model_dump(mode="json"))
                async with runtime.uow() as uow:
                    await on_admission_accepted(uow, event, admission)
                    await uow.commit()
                ids.append(placement_id_for(admission.admission_id))
            arrival = str(date.today() - timedelta(days=20))
            timings: dict[str, list[float]] = {"POST arrival": [], "POST plan issue": [], "GET placement": []}
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=system.gateway), base_url="http://bench") as c:
                for pid in ids:
                    t = time.perf_counter()
                    r = await c.post(f"/v1/placements/{pid}/arrival", json={"arrival_date": arrival},
                                     headers={**hub, "Idempotency-Key": str(uuid.uuid4())})
                    timings["POST arrival"].append((time.perf_counter() - t) * 1000)
                    assert r.status_code == 200, r.text
                    plan = await c.get(f"/v1/placements/{pid}/plan", headers=hub)
                    await c.patch(f"/v1/plans/{plan.json()['id']}", json={"sections": SECTIONS},
                                  headers={**hub, "If-Match": plan.headers["etag"]})
                    t = time.perf_counter()
                    r = await c.post(f"/v1/plans/{plan.json()['id']}/issue",
                                     headers={**hub, "Idempotency-Key": str(uuid.uuid4())})
                    timings["POST plan issue"].append((time.perf_counter() - t) * 1000)
                    assert r.status_code == 200, r.text
                for pid in ids:
                    t = time.perf_counter()
                    r = await c.get(f"/v1/placements/{pid}", headers=hub)
                    timings["GET placement"].append((time.perf_counter() - t) * 1000)
                    assert r.status_code == 200
        print(f"assessment through the gateway, embedded mode (SQLite, in-process bus), {N} placements")
        for name, ms in timings.items():
            report(name, ms)


if __name__ == "__main__":
    asyncio.run(main())
