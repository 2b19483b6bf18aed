"""What a new user does: `itp run` (what `make run` starts), then the docs and the API at the printed URL."""
from __future__ import annotations

import time

import httpx
import pytest

from .support.processes import start_embedded, stop


@pytest.fixture
def embedded_server(tmp_path):
    base, proc = start_embedded(tmp_path)  # an empty data directory: it migrates and seeds, as a first `make run`
    yield base, proc
    stop(proc)


def test_itp_run_starts_the_whole_system_with_docs_and_demo_credentials(embedded_server):
    base, proc = embedded_server
    docs = httpx.get(f"{base}/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    spec = httpx.get(f"{base}/v1/openapi.json").json()
    assert "/v1/referrals" in spec["paths"] and "/v1/referrals/{referral_id}/matches" in spec["paths"]

    # the banner's walk-through: a demo council's token, a referral, the hub sees it in matching
    def token(client_id: str) -> dict:
        resp = httpx.post(f"{base}/oauth/token", data={"grant_type": "client_credentials"},
                          auth=(client_id, f"{client_id}-secret"))
        assert resp.status_code == 200, resp.text
        return {"Authorization": f"Bearer {resp.json()['access_token']}"}

    created = httpx.post(f"{base}/v1/referrals", headers={**token("demo-leicestershire"), "Idempotency-Key": "run-1"},
                         json={"child_ref": "LCC-0001", "date_of_birth": "2012-03-14", "sex": "female",
                               "urgency": "crisis", "home_postcode": "LE4 6AB", "legal_status": "C2",
                               "wanted_start_date": "2026-11-23",
                               "social_worker": {"name": "Sam Patel", "email": "sam.patel@leics.gov.uk"}})
    assert created.status_code == 201, created.text
    hub = token("demo-hub")
    deadline = time.time() + 10
    while time.time() < deadline:
        matches = httpx.get(f"{base}/v1/referrals/{created.json()['id']}/matches", headers=hub)
        if matches.status_code == 200:
            break
        time.sleep(0.1)
    assert matches.status_code == 200, matches.text
    assert matches.json()["referral_id"] == created.json()["id"]
    # the blueprint home's registered manager sees children A-D, each in its phase today
    manager = token("demo-home-manager")
    from services.matching.seed import BLUEPRINT_HOME_ID
    placements = httpx.get(f"{base}/v1/placements", params={"home": BLUEPRINT_HOME_ID}, headers=manager)
    assert placements.status_code == 200, placements.text
    assert sorted(p["phase"] for p in placements.json()["items"]) == ["ended", "phase_1", "phase_2", "phase_2"]
    council_b = token("demo-leicester")  # the blueprint children are Leicestershire's; B sees its own only
    seen_by_b = httpx.get(f"{base}/v1/placements", headers=council_b).json()["items"]
    assert seen_by_b and {p["la_code"] for p in seen_by_b} == {"E06000016"}  # the demo region's city children
    assert not [p for p in seen_by_b if p["home_id"] == BLUEPRINT_HOME_ID]

    proc.terminate()
    out, _ = proc.communicate(timeout=10)
    assert f"Gateway:   {base}" in out
    assert f"API docs:  {base}/docs" in out
    assert "demo-leicestershire" in out and "demo-hub" in out and "demo-home-manager" in out
    assert f"/v1/placements?home={BLUEPRINT_HOME_ID}&as_of=" in out
