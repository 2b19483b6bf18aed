"""Hostile input to the referral API (issue 10, items 2 and 7): a council's client sending the largest body
the gateway lets through must not stall the service for everyone, and a query parameter that is not a day
must not be read as one.

Before: 20,000 needs (940 KB, under the gateway's 1 MiB limit) took about 4 s to answer 422 (a quadratic
duplicate check over an unbounded list) and four such requests held another council's GET for 15 s;
`?wanted_start_to=0` was read as 1970-01-01. The latency bounds below are generous (a shared CI machine);
the figures themselves are printed by `make bench-referrals` (on an idle machine: the 422 in about 12 ms,
another council's GET beside four of them delayed by about 60-90 ms).
"""
from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid

import pytest

from tests.support.referrals import LEICESTER, LEICS, REFERRAL, create_referral as refer

embedded = pytest.mark.parametrize("system_overrides", ["inprocess-sqlite"], indirect=True)

NEED = {"code": "mental_health", "severity": "high"}
HUGE = json.dumps({**REFERRAL, "needs": [NEED] * 20_000}).encode()


def _post_huge(sut, la=LEICS):
    return sut.client.post("/v1/referrals", content=HUGE,
                           headers={**sut.council(la), "Content-Type": "application/json",
                                    "Idempotency-Key": str(uuid.uuid4())})


async def _timed(call) -> tuple[float, object]:
    started = time.perf_counter()
    answer = await call
    return (time.perf_counter() - started) * 1000, answer


@embedded
async def test_twenty_thousand_needs_are_refused_at_once_naming_the_field_and_the_rule(sut):
    assert 900_000 < len(HUGE) < 1 << 20  # what the gateway lets through
    timings = []
    for _ in range(7):
        ms, r = await _timed(_post_huge(sut))
        timings.append(ms)
        assert r.status_code == 422, r.text[:300]
        assert r.headers["content-type"] == "application/problem+json"
        errors = r.json()["errors"]
        assert errors == [{"field": "body.needs", "rule": "too_long", "message": errors[0]["message"]}]
        assert "50" in errors[0]["message"]
        assert len(r.content) < 2_000  # the answer does not echo the list
    # the cost of the answer, not of the machine's other work: the best run is under 50 ms (it was ~4 s), and
    # the typical one within a generous bound
    assert min(timings) < 50, timings
    assert statistics.median(timings) < 150, timings

    # the same bound on a change, and on risks
    made = await refer(sut)
    huge_patch = json.dumps({"risks": [NEED] * 20_000}).encode()
    ms, r = await _timed(sut.client.patch(f"/v1/referrals/{made['id']}", content=huge_patch,
                                          headers={**sut.council(), "If-Match": '"1"',
                                                   "Content-Type": "application/json"}))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.risks", r.text[:300]
    assert r.json()["errors"][0]["rule"] == "too_long"


@embedded
async def test_a_council_sending_huge_lists_does_not_stall_another_councils_reads(sut):
    theirs = await refer(sut, LEICESTER)

    async def read() -> float:
        ms, r = await _timed(sut.client.get(f"/v1/referrals/{theirs['id']}", headers=sut.council(LEICESTER)))
        assert r.status_code == 200
        return ms

    idle = [await read() for _ in range(15)]
    busy, refused = [], []
    for _ in range(15):
        # four huge bodies in flight, then another council's read
        huge = [asyncio.create_task(_post_huge(sut)) for _ in range(4)]
        busy.append(await read())
        refused += [r.status_code for r in await asyncio.gather(*huge)]
    assert set(refused) == {422}
    delay = statistics.median(busy) - statistics.median(idle)
    # The read shares the process with four 422s (here also with the gateway and this client: one event loop),
    # so it waits for their work, about 4 x 15 ms on an idle machine (the 100 ms target; `make bench-referrals`
    # prints the figure), never for a stalled service: it was held for 15 s. The bound is generous because
    # this machine may be shared.
    assert delay < 250, (idle, busy)
    assert max(busy) < 1000, busy


@embedded
async def test_the_bounds_are_in_the_contract(sut):
    document = sut.system.services["referral"].openapi()
    for model in ("ReferralCreate", "ReferralPatch"):
        properties = document["components"]["schemas"][model]["properties"]
        for field in ("needs", "risks"):
            schema = properties[field]
            bounded = [schema, *schema.get("anyOf", [])]
            assert any(s.get("maxItems") == 50 for s in bounded), (model, field, schema)
    vocabulary = (await sut.client.get("/v1/referrals/vocabulary", headers=sut.council())).json()
    assert (vocabulary["max_needs"], vocabulary["max_risks"]) == (50, 50)


@embedded
@pytest.mark.parametrize("parameter", ["wanted_start_to", "wanted_start_from", "received_from", "received_to"])
async def test_a_date_filter_is_a_day_never_a_number(sut, parameter):
    for value in ("0", "1700000000", "-1", "20261123", "2026-11-23T00:00:00", "2026-02-30", "1e3", ""):
        r = await sut.client.get("/v1/referrals", params={parameter: value}, headers=sut.hub())
        assert r.status_code == 422, (parameter, value, r.text)
        assert r.json()["errors"][0]["field"] == f"query.{parameter}", r.text
        assert r.json()["errors"][0]["rule"] == "iso_date", r.text
    ok = await sut.client.get("/v1/referrals", params={parameter: "2026-11-23"}, headers=sut.hub())
    assert ok.status_code == 200, ok.text


@embedded
async def test_repeated_filters_and_cursors_are_bounded_too(sut):
    many = "&".join(["status=received"] * 11)
    r = await sut.client.get(f"/v1/referrals?{many}", headers=sut.hub())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.status", r.text
    assert (await sut.client.get("/v1/referrals?status=received&status=expired", headers=sut.hub())).status_code == 200
    r = await sut.client.get("/v1/referrals", params={"cursor": "x" * 513}, headers=sut.hub())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.cursor", r.text
