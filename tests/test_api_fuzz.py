"""schemathesis against the merged OpenAPI document of a running system (`itp run`, over real HTTP):
whatever it generates, no 5xx, and every response matches its documented schema and content type.
The number of examples per operation is bounded (ITP_FUZZ_EXAMPLES, default 15) to keep CI short."""
from __future__ import annotations

import os

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import content_type_conformance, not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from .support.dates import date_edge_requests
from .support.processes import start_embedded, stop

EXAMPLES = int(os.environ.get("ITP_FUZZ_EXAMPLES", "15"))


@pytest.fixture(scope="module")
def running_system(tmp_path_factory, demo_region_data):
    base, proc = start_embedded(tmp_path_factory.mktemp("fuzz"), seeded=demo_region_data)
    tokens = {}
    for client_id in ("demo-hub", "demo-leicestershire"):
        resp = httpx.post(f"{base}/oauth/token", data={"grant_type": "client_credentials"},
                          auth=(client_id, f"{client_id}-secret"))
        resp.raise_for_status()
        tokens[client_id] = resp.json()["access_token"]
    yield base, tokens
    stop(proc)


CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


def fuzz(running_system, who: str) -> None:
    """Every operation of the merged document in turn; the failures of all of them are reported together."""
    base, tokens = running_system
    schema = schemathesis.openapi.from_url(f"{base}/v1/openapi.json")
    headers = {"Authorization": f"Bearer {tokens[who]}"}
    failures, operations = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case):
            case.call_and_validate(base_url=base, headers=headers, checks=CHECKS)

        try:
            run()
        except Exception as exc:  # noqa: BLE001 - collected and reported below
            failures.append(f"{operation.label}: {exc}")
    assert operations >= 5
    assert not failures, "\n\n".join(failures)


def test_as_the_hub_no_generated_request_gets_a_5xx_or_an_undocumented_response(running_system):
    fuzz(running_system, "demo-hub")


def test_as_a_council_no_generated_request_gets_a_5xx_or_an_undocumented_response(running_system):
    fuzz(running_system, "demo-leicestershire")


def test_every_date_query_at_the_calendars_edges_on_the_demo_region_gets_no_5xx(running_system):
    """tests/support/dates.py's sweep (every GET's date parameters at years 1 and 9999 and a leap day)
    against this system's seeded demo region, where the reports and returns have children to compute."""
    base, tokens = running_system
    requests = date_edge_requests(httpx.get(f"{base}/v1/openapi.json", timeout=30).json())
    with httpx.Client(base_url=base, timeout=60) as http:
        for who in ("demo-hub", "demo-leicestershire"):
            for url, query in requests:
                resp = http.get(url, params=query, headers={"Authorization": f"Bearer {tokens[who]}"})
                assert resp.status_code < 500, (who, url, query, resp.status_code, resp.text[:300])
