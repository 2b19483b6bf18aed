"""Issue 17: a council integrates in a day. The council walkthrough of the README, twice:
- through a Python client generated from the merged OpenAPI document by openapi-python-client (generated
  once per session into a temporary directory), on both transports: token -> refer with an Idempotency-Key
  -> read (ETag) -> JSON merge patch with If-Match -> list with a filter -> the hub ranks and accepts -> the
  council reads the placement, its plan and its reviews;
- the README's own fenced block of curl commands, and after it the Outreach and Data standards sections' blocks,
  executed by bash against `itp run` (what `make run` starts), which also keeps its console readable: the banner, and no request log lines under it."""
from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from datetime import date
from pathlib import Path

import httpx
import pytest

from itp.testing import free_port, wait_for

from .support import unavailable
from .support.matching import onboard_live_home
from .support.processes import copy_data_dir, stop

ROOT = Path(__file__).resolve().parent.parent
GENERATOR = Path(sys.executable).parent / "openapi-python-client"
DUMP_DOCUMENT = """
import asyncio, json, sys, pathlib
import httpx
from itp.system import build_system, migrate_all
async def main():
    overrides = dict(transport="inprocess", data_dir=pathlib.Path(sys.argv[1]))
    await migrate_all(**overrides)
    system = build_system(**overrides)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=system.gateway), base_url="http://g") as c:
        resp = await c.get("/v1/openapi.json")
        resp.raise_for_status()
        pathlib.Path(sys.argv[2]).write_text(json.dumps(resp.json()))
asyncio.run(main())
"""


@pytest.fixture(scope="session")
def generated_client(tmp_path_factory):
    """The `itp_client` package openapi-python-client makes from /v1/openapi.json (once per session)."""
    if not GENERATOR.exists():
        unavailable("openapi-python-client", "not installed (pip install -e '.[test]')")
    where = tmp_path_factory.mktemp("generated-client")
    document = where / "openapi.json"
    env = {**os.environ, "ITP_LOG_LEVEL": "WARNING"}
    subprocess.run([sys.executable, "-c", DUMP_DOCUMENT, str(where / "data"), str(document)], check=True,
                   cwd=ROOT, env=env, capture_output=True, timeout=120)
    config = where / "config.yaml"
    config.write_text("post_hooks: []\npackage_name_override: itp_client\n")
    made = subprocess.run([str(GENERATOR), "generate", "--path", str(document), "--output-path",
                           str(where / "itp_client"), "--meta", "none", "--config", str(config)],
                          capture_output=True, text=True, timeout=180)
    assert made.returncode == 0, made.stdout + made.stderr
    # openapi-python-client 0.29 forgets `Unset` in the imports of an operation whose optional body has two
    # media types (PATCH: application/json and application/merge-patch+json); add it, as its ruff hook would not
    for module in (where / "itp_client" / "api").rglob("*.py"):
        code = module.read_text()
        if re.search(r"\bUnset\b", code) and not re.search(r"^from \.\.\.types import .*\bUnset\b", code, re.M):
            module.write_text("from ...types import Unset\n" + code)
    sys.path.insert(0, str(where))
    try:
        yield importlib.import_module("itp_client")
    finally:
        sys.path.remove(str(where))


def _api(package, tag: str, operation: str):
    return importlib.import_module(f"{package.__name__}.api.{tag}.{operation}")


def _model(package, name: str):
    return getattr(importlib.import_module(f"{package.__name__}.models"), name)


async def _credentials(sut, **who) -> tuple[str, str]:
    from services.gateway.clients import create_client

    async with sut.runtime("gateway").db.session() as session, session.begin():
        made = await create_client(session, name=f"walkthrough {who}", **who)
    return made["client_id"], made["client_secret"]


async def test_the_council_walkthrough_through_a_generated_client(sut, generated_client):
    itp = generated_client
    transport = httpx.ASGITransport(app=sut.system.gateway)
    base = "http://gateway.test"

    async def token(client_id: str, secret: str):
        anonymous = itp.Client(base_url=base, httpx_args={"transport": transport})
        body = _model(itp, "GetTokenBody").from_dict({"grant_type": "client_credentials", "client_id": client_id,
                                                     "client_secret": secret})
        resp = await _api(itp, "auth", "get_token").asyncio_detailed(client=anonymous, body=body)
        assert resp.status_code == 200, resp.content
        return itp.AuthenticatedClient(base_url=base, token=json.loads(resp.content)["access_token"],
                                       httpx_args={"transport": transport})

    home = await onboard_live_home(sut, f"SC{uuid.uuid4().int % 900000 + 100000}")
    council = await token(*await _credentials(sut, la_code="E10000018"))
    hub = await token(*await _credentials(sut, role="hub", scopes=["hub:all"]))
    child_ref = f"LCC-GEN-{uuid.uuid4().hex[:6]}"

    # refer, with an Idempotency-Key: a retry answers the same referral
    referral_body = _model(itp, "ReferralCreate").from_dict({
        "child_ref": child_ref, "date_of_birth": "2012-03-14", "sex": "female", "legal_status": "C2",
        "home_postcode": "LE4 6AB", "urgency": "crisis", "needs": [{"code": "mental_health", "severity": "high"}],
        "social_worker": {"name": "Sam Patel", "email": "sam.patel@leics.gov.uk"}})
    key = str(uuid.uuid4())
    create = _api(itp, "referrals", "create_referral")
    created = await create.asyncio_detailed(client=council, body=referral_body, idempotency_key=key)
    assert created.status_code == 201, created.content
    assert type(created.parsed).__name__ == "Referral"
    referral_id = json.loads(created.content)["id"]
    assert created.headers["location"] == f"/v1/referrals/{referral_id}"
    again = await create.asyncio_detailed(client=council, body=referral_body, idempotency_key=key)
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert json.loads(again.content)["id"] == referral_id

    # read: the ETag; change with If-Match (the generated client sends application/merge-patch+json)
    read = await _api(itp, "referrals", "get_referral").asyncio_detailed(referral_id, client=council)
    assert read.status_code == 200 and read.headers["etag"] == '"1"'
    update = _api(itp, "referrals", "update_referral")
    patch = _model(itp, "ReferralPatch").from_dict({"summary": "Placement broke down last night."})
    changed = await update.asyncio_detailed(referral_id, client=council, body=patch, if_match=read.headers["etag"])
    assert changed.status_code == 200, changed.content
    assert changed.headers["etag"] == '"2"'
    stale = await update.asyncio_detailed(referral_id, client=council, if_match='"1"',
                                          body=_model(itp, "ReferralPatch").from_dict({"summary": "Stale."}))
    assert stale.status_code == 412 and stale.headers["etag"] == '"2"'

    # list with a filter
    listed = await _api(itp, "referrals", "list_referrals").asyncio_detailed(client=council, child_ref=child_ref)
    assert listed.status_code == 200
    assert [r["id"] for r in json.loads(listed.content)["items"]] == [referral_id]

    # the hub ranks the homes and accepts
    matches = _api(itp, "matching", "get_matches")

    async def ranked():
        resp = await matches.asyncio_detailed(referral_id, client=hub)
        return resp if resp.status_code == 200 else None
    ranking = json.loads((await wait_for(ranked)).content)
    assert ranking["options"][0]["home_id"] == home["id"]
    accept = _model(itp, "AdmissionCreate").from_dict({
        "referral_id": referral_id, "decision": "accept", "home_id": home["id"],
        "planned_start_date": str(date.today()), "impact_risk_assessment_id": ranking["impact_risk_assessment_id"]})
    decided = await _api(itp, "admissions", "decide_admission").asyncio_detailed(
        client=hub, body=accept, idempotency_key=str(uuid.uuid4()))
    assert decided.status_code == 201, decided.content

    # the council finds its child's placement from the referral; the home records the arrival (the hub here)
    placements = _api(itp, "placements", "list_placements")

    async def placed():
        resp = await placements.asyncio_detailed(client=council, referral_id=referral_id)
        items = json.loads(resp.content)["items"] if resp.status_code == 200 else []
        return items[0] if items else None
    placement = await wait_for(placed)
    arrived = await _api(itp, "placements", "arrival_placement").asyncio_detailed(
        placement["id"], client=hub, idempotency_key=str(uuid.uuid4()),
        body=_model(itp, "Arrival").from_dict({"arrival_date": str(date.today()), "key_worker": "KW-17",
                                               "therapeutic_lead": "TL-3"}))
    assert arrived.status_code == 200, arrived.content

    # the council reads the placement, its plan and its reviews
    got = await _api(itp, "placements", "get_placement").asyncio_detailed(placement["id"], client=council)
    assert got.status_code == 200 and json.loads(got.content)["home_id"] == home["id"]
    plan = await _api(itp, "plans", "placement_plan").asyncio_detailed(placement["id"], client=council)
    assert plan.status_code == 200, plan.content
    assert json.loads(plan.content)["placement_id"] == placement["id"]
    reviews = await _api(itp, "reviews", "list_reviews").asyncio_detailed(placement["id"], client=council)
    assert reviews.status_code == 200, reviews.content
    assert json.loads(reviews.content)["items"], "the first review is scheduled on arrival"


# ---------------------------------------------------------------- the README's commands against `itp run`

def readme_walkthrough(name: str = "walkthrough") -> str:
    text = (ROOT / "README.md").read_text()
    block = re.search(rf"<!-- {name}:begin -->\s*```sh\n(.*?)```\s*<!-- {name}:end -->", text, re.S)
    assert block, f"README.md has no {name} block"
    return block.group(1)


@pytest.fixture
def itp_run(tmp_path, demo_region_data):
    """`itp run` as `make run` starts it (INFO logs, so that the console test means something), on a copy of the
    session's demo region (a fresh directory's seed is tests/test_make_run.py's)."""
    port = free_port()
    log = tmp_path / "console.txt"
    data_dir = copy_data_dir(demo_region_data, tmp_path)
    with log.open("w") as console:
        proc = subprocess.Popen([sys.executable, "-m", "itp.cli", "run", "--port", str(port), "--data-dir",
                                 str(data_dir)], stdout=console, stderr=subprocess.STDOUT, cwd=ROOT,
                                env={**os.environ, "ITP_LOG_LEVEL": "INFO"})
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        assert proc.poll() is None, log.read_text()
        try:
            if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("itp run did not become ready")
    yield base, log, data_dir
    stop(proc)


def test_the_readme_walkthrough_runs_as_written_against_make_run(itp_run, tmp_path):
    for tool in ("bash", "curl"):
        if shutil.which(tool) is None:
            unavailable(tool, "the README's walkthrough is a bash script of curl commands")
    base, console, data_dir = itp_run
    # the walkthrough, then the outreach and data standards sections' blocks, which reuse its API, field, token
    script = "\n".join(readme_walkthrough(name) for name in ("walkthrough", "outreach", "standards"))
    assert "http://127.0.0.1:8000" in script  # as written for `make run`; only the port differs here
    script = script.replace("http://127.0.0.1:8000", base)
    done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], capture_output=True, text=True,
                          timeout=180, cwd=tmp_path)
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    lines = done.stdout.split()
    assert lines[0] == "referral" and '"1"' in lines  # the ETag of the first read
    assert "reserved" in lines and "phase_1" in lines
    # outreach: a fixed fee's six weeks, the intervention accepted, the council's return on investment
    assert lines[lines.index("phase_1") + 4:lines.index("phase_1") + 6] == ["6", "accepted"]
    # the standard's request read back in both forms, the 903 CSV's header row, a CSC API placement type
    assert ["solo", "Solo", "placement", "recommended"] == lines[lines.index("solo"):lines.index("solo") + 4]
    assert "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,URN,PL_POST,HOME_POST,PL_DISTANCE,DEC,REC,REASON_PLACE_CHANGE" \
        in lines and lines[-1] == "K2"

    # the console: the banner, and no request log lines (they are in DATA_DIR/logs/itp.log)
    shown = console.read_text()
    assert "Gateway:   " + base in shown and "itp.log" in shown
    assert '"msg": "request"' not in shown and "/v1/referrals" not in shown.split("Webhooks:")[-1]
    logged = (data_dir / "logs" / "itp.log").read_text()
    assert '"msg": "request"' in logged and '"path": "/v1/referrals"' in logged

