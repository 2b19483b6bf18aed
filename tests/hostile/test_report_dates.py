"""Dates at the edges of the calendar in the outcomes reports' ranges (the fuzzer's find: GET
/v1/outcomes/cohorts?to=0001-01-01 answered 500, as did any `to` on 29 February without a `from`: the default
`from`, a year before `to`, was that day's date with the year changed). Every answer is the report or a 422
naming the field and the rule, never a 500, on both transports."""
from __future__ import annotations

import pytest

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
