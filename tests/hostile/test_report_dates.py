"""Dates at the edges of the calendar in the outcomes reports' ranges (the fuzzer's find: GET
/v1/outcomes/cohorts?to=0001-01-01 answered 500, as did any `to` on 29 February without a `from`: the default
`from`, a year before `to`, was that day's date with the year changed). Every answer is the report or a 422
naming the field and the rule, never a 500, on both transports."""
from __future__ import annotations

import pytest

from ..support.assessment import admit, arrive, key, new_home
from ..support.dates import date_edge_requests

RANGES = [
    {"to": "0001-01-01"},                              # the first day there is: the year before it is not
    {"to": "2028-02-29"},                              # a leap day: the year before has no 29 February
    {"to": "2024-02-29", "from": "2023-03-01"},
    {"from": "0001-01-01", "to": "0001-12-31"},
    {"from": "9999-01-01", "to": "9999-12-31"},        # the last year there is: nothing after it to look at
    {"to": "9999-12-31"},
]


@pytest.mark.parametrize("path", ["/v1/outcomes/cohorts", "/v1/reports/sufficiency"])
async def test_report_ranges_at_the_calendars_edges_answer_a_report_or_a_named_422(sut, path):
    for by in ("home", "hub", "council"):
        for params in RANGES:
            query = {**params, "by": by} if path.endswith("cohorts") else params
            for headers in (sut.hub(), sut.council()):
                resp = await sut.client.get(path, params=query, headers=headers)
                assert resp.status_code in (200, 422), (path, query, resp.status_code, resp.text[:300])
                if resp.status_code == 422:
                    problem = resp.json()
                    assert problem["errors"][0]["field"].startswith("query."), problem
                    assert problem["errors"][0]["rule"], problem
    # a leap day's default range is the year before it, to the day (28 February, there being no 29th)
    leap = await sut.client.get("/v1/outcomes/cohorts", params={"to": "2028-02-29"}, headers=sut.hub())
    assert leap.status_code == 200, leap.text[:300]
    assert (leap.json()["from"], leap.json()["to"]) == ("2027-02-28", "2028-02-29")


async def test_every_date_in_every_get_query_at_the_calendars_edges_is_answered_without_a_5xx(sut):
    """The fuzzer's find, as a class of input on every GET of the merged contract, as the hub and as a council."""
    requests = date_edge_requests((await sut.client.get("/v1/openapi.json")).json())
    assert len({url for url, _ in requests}) >= 8  # the contract has date filters on many routes: these found them
    for url, query in requests:
        for headers in (sut.hub(), sut.council()):
            resp = await sut.client.get(url, params=query, headers=headers)
            assert resp.status_code < 500, (url, query, resp.status_code, resp.text[:300])


async def test_an_arrival_before_the_childs_birth_is_refused_naming_the_field_and_nothing_starts(sut):
    """A year-1 arrival (a typo of the year) was recorded: Phase 1, the plan's deadlines and the fees would all have
    run from it, and a legal-status change could then take effect in year 1 too. It is refused against the child's
    date of birth (the referral's, kept by assessment); the placement still waits for its real arrival."""
    home = await new_home(sut)
    placement = await admit(sut, home, date_of_birth="2012-03-14")
    for day in ("0001-01-01", "2012-03-13"):
        r = await sut.client.post(f"/v1/placements/{placement['id']}/arrival", headers={**key(), **sut.hub()},
                                  json={"arrival_date": day, "key_worker": "KW-1", "therapeutic_lead": "TL-1"})
        assert r.status_code == 422, r.text
        error = r.json()["errors"][0]
        assert (error["field"], error["rule"]) == ("body.arrival_date", "date_in_order") and "2012-03-14" in error["message"]
    still = await sut.client.get(f"/v1/placements/{placement['id']}", headers=sut.hub())
    assert still.json()["phase"] == "pending" and still.json()["arrival_date"] is None
    assert (await arrive(sut, placement))["phase"] == "phase_1"
