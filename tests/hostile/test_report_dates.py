"""Dates at the edges of the calendar in the outcomes reports' ranges (the fuzzer's find: GET
/v1/outcomes/cohorts?to=0001-01-01 answered 500, as did any `to` on 29 February without a `from`: the default
`from`, a year before `to`, was that day's date with the year changed). Every answer is the report or a 422
naming the field and the rule, never a 500, on both transports."""
from __future__ import annotations

import pytest

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
    leap = await sut.client.get("/v1/reports/sufficiency", params={"to": "2028-02-29"}, headers=sut.hub())
    assert leap.status_code == 200, leap.text[:300]
