"""`make bench-matching`: time to rank one referral against a synthetic national-scale data set
(3,500 homes, 13,000 places, 11,000 residents, a realistic mix of needs and risks; a fixed seed).

Prints p50/p99 in process (the pure impact risk assessment plus serialising the answer, as the endpoint
does) and through the gateway (in-process ASGI via httpx, embedded mode on SQLite: token checks in the
gateway and in matching, the referral read, the homes-version check, the assessment,
the stored-answer check). Baseline in the same run: the hard-limit filter alone over every home.
Not a test: it prints figures. Target: p99 under 50 ms in process.
"""
from __future__ import annotations

import asyncio
import gc
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import pct  # noqa: E402
import httpx  # noqa: E402

from itp.system import build_system, migrate_all  # noqa: E402
from libs.common.auth import KeyStore, mint_token  # noqa: E402
from libs.common.db import Database  # noqa: E402
from services.matching.domain.impact_risk import assess  # noqa: E402
from services.matching.domain.distance import centroids  # noqa: E402
from services.matching.domain.limits import failed_limit, required_categories  # noqa: E402
from libs.common.ages import age_on  # noqa: E402
from services.matching.domain.model import Child, Home, Resident  # noqa: E402
from services.matching.domain.rules import load_rules  # noqa: E402
from services.matching.domain.impact_risk import canonical  # noqa: E402
from services.matching.tables import beds, homes, referrals, residents  # noqa: E402

HOMES, PLACES, RESIDENTS = 3_500, 13_000, 11_000
N = int(sys.argv[1]) if len(sys.argv) > 1 else 200
TODAY = date(2026, 11, 23)
# (code, share of children with it): a plausible mix for children referred to residential care
CODE_MIX = [("trauma", .55), ("mental_health", .40), ("missing_episodes", .35), ("criminal_exploitation_risk", .30),
            ("self_harm", .25), ("neurodiversity", .25), ("camhs_involvement", .25), ("violence_to_others", .20),
            ("substance_misuse", .15), ("ehcp", .20), ("learning_disability", .10), ("bullying_victim", .10),
            ("sexualised_behaviour", .06), ("exploits_others", .05), ("youth_justice", .08), ("fire_setting", .03),
            ("harmful_sexual_behaviour", .02), ("radicalisation_risk", .01)]
SPECIALISMS = sorted(load_rules().specialisms)
CATEGORIES = ["emotional_behavioural_difficulties", "mental_disorders", "learning_disability", "drug_alcohol_misuse"]


def codes(rnd: random.Random) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((c, rnd.choice(("low", "medium", "medium", "high"))) for c, share in CODE_MIX
                        if rnd.random() < share))


def dataset(seed: int = 4):
    """Homes as rows (for the database) and as domain objects (for the in-process run)."""
    rnd = random.Random(seed)
    districts = sorted(centroids()[0])
    places = [3] * HOMES
    for _ in range(PLACES - sum(places)):
        i = rnd.randrange(HOMES)
        while places[i] >= 6:
            i = rnd.randrange(HOMES)
        places[i] += 1
    bed_slots = [(h, b) for h in range(HOMES) for b in range(places[h])]
    occupied = set(rnd.sample(range(len(bed_slots)), RESIDENTS))
    home_rows, bed_rows, resident_rows, referral_rows = [], [], [], []
    now = datetime.now(timezone.utc)
    ids = [str(uuid.UUID(int=rnd.getrandbits(128))) for _ in range(HOMES)]
    phase_1_used: set[int] = set()
    for slot, (h, b) in enumerate(bed_slots):
        bed_id = str(uuid.UUID(int=rnd.getrandbits(128)))
        state = "occupied" if slot in occupied else "vacant"
        bed_rows.append(dict(id=bed_id, home_id=ids[h], label=f"Bed {b + 1}", state=state, is_pathway=False,
                             updated_at=now))
        if state == "occupied":
            ref = str(uuid.UUID(int=rnd.getrandbits(128)))
            dob = date(TODAY.year - rnd.randint(10, 17), rnd.randint(1, 12), rnd.randint(1, 28))
            phase = "phase_1" if h not in phase_1_used and rnd.random() < 0.3 else "phase_2"
            if phase == "phase_1":
                phase_1_used.add(h)
            cs = codes(rnd)
            referral_rows.append(dict(id=ref, la_code="E10000018", date_of_birth=dob, sex=rnd.choice(("female", "male")),
                                      home_outward_code=None, needs=[], risks=[{"code": c, "severity": s} for c, s in cs],
                                      urgency="planned", wanted_start_date=None, status="placed", received_at=now,
                                      updated_at=now))
            resident_rows.append(dict(placement_id=str(uuid.UUID(int=rnd.getrandbits(128))), referral_id=ref,
                                      home_id=ids[h], bed_id=bed_id, phase=phase, start_date=TODAY, end_date=None))
    first_vacant = {}
    for row in bed_rows:
        if row["state"] == "vacant" and row["home_id"] not in first_vacant:
            first_vacant[row["home_id"]] = row
    for h in range(HOMES):
        roll = rnd.random()
        status = "onboarding" if roll < 0.04 else "live"
        reg = "suspended" if 0.04 <= roll < 0.06 else "registered"
        rating = rnd.choices(["outstanding", "good", "requires_improvement", "inadequate"], [15, 60, 22, 3])[0]
        age_min = rnd.choice((8, 10, 11, 12))
        home_rows.append(dict(
            id=ids[h], urn=f"SC{h + 100000:06d}", name=f"Home {h}", address="synthetic", postcode="XX1 1XX",
            postcode_district=rnd.choice(districts), registered_places=places[h], age_min=age_min,
            age_max=rnd.choice((16, 17, 17)), sexes=rnd.choice([["female", "male"]] * 4 + [["female"], ["male"]]),
            categories=sorted({"emotional_behavioural_difficulties", *rnd.sample(CATEGORIES, rnd.randint(0, 3))}),
            specialisms=sorted(rnd.sample(SPECIALISMS, rnd.randint(0, 2))), registered_manager=None,
            ofsted_rating=rating, inspection_date=None, registration_status=reg, status=status, phase_1_limit=1,
            version=1, went_live_at=now, created_at=now, updated_at=now))
        if status == "live" and ids[h] in first_vacant:
            first_vacant[ids[h]]["is_pathway"] = True
    return home_rows, bed_rows, resident_rows, referral_rows


def domain_homes(home_rows, bed_rows, resident_rows, referral_rows) -> list[Home]:
    free = {b["home_id"] for b in bed_rows if b["is_pathway"] and b["state"] == "vacant"}
    refs = {r["id"]: r for r in referral_rows}
    by_home: dict[str, list[Resident]] = {}
    for r in resident_rows:
        ref = refs[r["referral_id"]]
        child = Child(ref["id"], age_on(ref["date_of_birth"], TODAY), ref["sex"],
                      tuple(sorted((x["code"], x["severity"]) for x in ref["risks"])))
        by_home.setdefault(r["home_id"], []).append(Resident(r["placement_id"], child, r["phase"]))
    return [Home(id=h["id"], live=h["status"] == "live", registration_status=h["registration_status"],
                 ofsted_rating=h["ofsted_rating"], age_min=h["age_min"], age_max=h["age_max"],
                 sexes=frozenset(h["sexes"]), categories=frozenset(h["categories"]),
                 specialisms=frozenset(h["specialisms"]), outward_code=h["postcode_district"],
                 pathway_bed_free=h["id"] in free, phase_1_limit=1,
                 residents=tuple(sorted(by_home.get(h["id"], []), key=lambda r: r.placement_id))) for h in home_rows]


def the_referral() -> dict:
    return dict(id=str(uuid.UUID(int=42)), la_code="E10000018", date_of_birth=date(2012, 3, 14), sex="female",
                home_outward_code="LE4", needs=[{"code": "mental_health", "severity": "high"}],
                risks=[{"code": "criminal_exploitation_risk", "severity": "high"}, {"code": "missing_episodes", "severity": "medium"},
                       {"code": "self_harm", "severity": "medium"}],
                urgency="crisis", wanted_start_date=TODAY, status="awaiting_decision",
                received_at=datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc), updated_at=datetime.now(timezone.utc))


def in_process(hs: list[Home], referral: dict) -> tuple[list[float], list[float], dict]:
    rules = load_rules()
    child = Child(referral["id"], age_on(referral["date_of_birth"], TODAY), referral["sex"],
                  tuple(sorted((x["code"], x["severity"]) for x in referral["needs"] + referral["risks"])),
                  referral["home_outward_code"])
    full, baseline = [], []
    result = None
    for i in range(N + 10):
        t0 = time.perf_counter()
        result = assess(child, hs, rules)
        canonical(result.to_dict(limit=25))
        t1 = time.perf_counter()
        required = required_categories(child, rules)
        sum(1 for h in hs if failed_limit(child, h, rules, required) is None)
        t2 = time.perf_counter()
        if i >= 10:
            full.append((t1 - t0) * 1000)
            baseline.append((t2 - t1) * 1000)
    return full, baseline, {"considered": result.homes_considered, "ranked": len(result.ranked),
                            "excluded": {k: v for k, v in result.excluded.items() if v}}


async def through_gateway(rows, referral: dict) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        overrides = dict(transport="inprocess", data_dir=Path(tmp), log_level="WARNING", outbox_poll_seconds=5)
        await migrate_all(**overrides)
        system = build_system(**overrides)
        db = Database(system.runtime("matching").settings)
        home_rows, bed_rows, resident_rows, referral_rows = rows
        async with db.session() as session, session.begin():
            for table, data in ((homes, home_rows), (beds, sorted(bed_rows, key=lambda b: not b["is_pathway"])),
                                (residents, resident_rows), (referrals, referral_rows + [referral])):
                for i in range(0, len(data), 500):
                    await session.execute(table.insert(), data[i:i + 500])
        await db.dispose()
        async with system.gateway.router.lifespan_context(system.gateway):
            settings = system.runtime("gateway").settings
            token = mint_token(KeyStore(settings.resolved_keys_file), client_id="bench-hub", role="hub", ttl_seconds=3600)
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=system.gateway), base_url="http://gw") as client:
                url = f"/v1/referrals/{referral['id']}/matches?as_of={TODAY}"
                headers = {"Authorization": f"Bearer {token}"}
                latencies = []
                for i in range(N + 10):
                    t0 = time.perf_counter()
                    r = await client.get(url, headers=headers)
                    elapsed = (time.perf_counter() - t0) * 1000
                    assert r.status_code == 200, r.text
                    if i >= 10:
                        latencies.append(elapsed)
                return latencies


def main() -> None:
    t0 = time.perf_counter()
    rows = dataset()
    hs = domain_homes(*rows)
    gc.collect()
    gc.freeze()  # as the service does after loading its homes snapshot
    referral = the_referral()
    print(f"data set: {len(rows[0])} homes, {len(rows[1])} places, {len(rows[2])} residents "
          f"(built in {time.perf_counter() - t0:.1f} s; seed 4)")
    full, baseline, info = in_process(hs, referral)
    print(f"ranked {info['ranked']} of {info['considered']} homes; excluded by hard limit: {info['excluded']}")
    print(f"in process, rank one referral (assess + serialise top 25), n={N}: "
          f"p50 {pct(full, 50):.2f} ms  p99 {pct(full, 99):.2f} ms  (mean {statistics.mean(full):.2f} ms)")
    print(f"baseline, hard-limit filter alone over {len(hs)} homes:            "
          f"p50 {pct(baseline, 50):.2f} ms  p99 {pct(baseline, 99):.2f} ms")
    print(f"ratio full/baseline at p50: {pct(full, 50) / pct(baseline, 50):.1f}x   target p99 < 50 ms in process: "
          f"{'met' if pct(full, 99) < 50 else 'NOT met'}")
    gw = asyncio.run(through_gateway(rows, referral))
    print(f"through the gateway (in-process ASGI, SQLite, warm snapshot), n={N}: "
          f"p50 {pct(gw, 50):.2f} ms  p99 {pct(gw, 99):.2f} ms")


if __name__ == "__main__":
    main()
