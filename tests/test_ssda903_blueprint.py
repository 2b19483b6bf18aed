"""The SSDA903 export of the 3-bed blueprint scenario passes the DfE's validator for the current collection year
(issue 12), the rules that cannot apply to one provider's rows aside (tests/support/validator903.py)."""
from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from itp.blueprint import Blueprint
from services.matching.seed import seed_blueprint_home
from services.matching.tables import metadata as matching_metadata

from .support import validator903

pytestmark = pytest.mark.parametrize("system_overrides", ["inprocess-sqlite"], indirect=True)
LEICS = "E10000018"


def _dmy(iso: str) -> str:
    y, m, d = iso.split("-")
    return f"{d}/{m}/{y}"


async def test_the_blueprint_scenarios_episodes_pass_the_dfe_validator(sut):
    validator903.validator_python()
    matching = sut.runtime("matching")
    await seed_blueprint_home(matching.db, matching_metadata.tables["outbox"])
    today = date.today()
    ids = await Blueprint(sut.client, sut.hub(), sut.council(LEICS), today).run()
    year = validator903.collection_year(today)
    start = date(int(year[:4]), 4, 1)
    got = await sut.client.get("/v1/placements/ssda903-episodes", headers={**sut.council(LEICS), "Accept": "text/csv"},
                               params={"from": str(start), "to": str(date(start.year + 1, 3, 31))})
    assert got.status_code == 200, got.text
    rows = list(csv.DictReader(io.StringIO(got.text)))
    assert rows and {r["CHILD"] for r in rows} <= {f"BLUEPRINT-{n}" for n in ids}
    assert {r["CHILD"] for r in rows if not r["DEC"]} == {f"BLUEPRINT-{n}" for n in "BCD"}  # A stepped down
    header = []
    for pid in ids.values():
        p = (await sut.client.get(f"/v1/placements/{pid}", headers=sut.council(LEICS))).json()
        ref = (await sut.client.get(f"/v1/referrals/{p['referral_id']}", headers=sut.council(LEICS))).json()
        header.append({"CHILD": ref["child_ref"], "SEX": ref["sex_code"], "DOB": _dmy(ref["date_of_birth"])})
    judged = validator903.run([{**r, "HOME_POST": ""} for r in rows], header, la=LEICS, year=year)
    assert {f["code"] for f in judged["failed"]} <= set(validator903.CANNOT_RUN)
    found = judged["errors"]
    assert set(found.get("388", {}).get("rows", {}).get("Episodes", [])) <= {
        i for i, r in enumerate(rows) if r["REC"] == "X1" and r["REASON_PLACE_CHANGE"]}
    assert set(found.get("357", {}).get("rows", {}).get("Episodes", [])) <= {
        i for i, r in enumerate(rows) if r["RNE"] in ("P", "B")}
    errors = {code: e for code, e in found.items()
              if code not in validator903.NOT_APPLICABLE and code not in validator903.WHOLE_RETURN}
    assert errors == {}, errors
