"""Hostile dates for the API's date parameters (the fuzzer found GET /v1/outcomes/cohorts?to=0001-01-01 answering
500): the calendar's first and last days and a leap day, on every GET of an OpenAPI document that takes a date."""
from __future__ import annotations


EDGES = ["0001-01-01", "0001-12-31", "2028-02-29", "9999-12-31"]
NOBODYS_ID = "00000000-0000-4000-8000-000000000000"


def date_edge_requests(doc: dict) -> list[tuple[str, dict]]:
    """For every GET of an OpenAPI document with query parameters of format date: each set to the calendar's first
    and last days and a leap day, alone and all at once, and the widest range (first day to last) when there are
    several; path parameters are an id nobody has (a 404 is a fine answer). Also run against the seeded demo
    region in tests/test_api_fuzz.py; tests/hostile/test_report_dates.py on both transports."""
    def is_date(param: dict) -> bool:
        schema = param.get("schema", {})
        return any(option.get("format") == "date" for option in (schema, *schema.get("anyOf", [])))

    out = []
    for path, item in doc["paths"].items():
        op = item.get("get")
        dates = [p["name"] for p in (op or {}).get("parameters", []) if p["in"] == "query" and is_date(p)]
        if not dates:
            continue
        url = path
        for p in op.get("parameters", []):
            if p["in"] == "path":
                url = url.replace("{" + p["name"] + "}", NOBODYS_ID)
        queries = [{name: day} for name in dates for day in EDGES] + [{name: day for name in dates} for day in EDGES]
        if len(dates) > 1:
            queries.append({name: ("0001-01-01" if i == 0 else "9999-12-31") for i, name in enumerate(dates)})
        out += [(url, query) for query in queries]
    return out
