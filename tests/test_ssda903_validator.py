"""The DfE's own SSDA903 validator (csc-validator-be-903) judges the episodes the end-to-end pathway produces,
for the current collection year: zero errors for every rule that applies to a single provider's rows (the rules
that cannot apply are listed, with why, in tests/support/validator903.py and the README). Runs the validator in
its own venv as a subprocess (make validator-903; fails under ITP_REQUIRE_INTEGRATION=1 if it cannot be built)."""
from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta

from .support import today, wait_for
from .support.assessment import admit, days, issue_plan, key
from .support.matching import onboard_live_home
from .support.referrals import LEICS
from .support import validator903



def _dmy(iso: str) -> str:
    y, m, d = iso.split("-")
    return f"{d}/{m}/{y}"


async def _pathway(sut, home: dict, *, dob: str, sex: str, rne: str, legal: str, arrived: int, ending: dict | None,
                   change: tuple[str, int] | None, phase_2: int | None) -> dict:
    """A child through the real APIs: refer, accept, arrive, maybe a legal status change, Phase 2 and an ending."""
    child_ref = f"LCC-V-{random.randint(0, 10**9)}"
    placement = await admit(sut, home, child_ref=child_ref, date_of_birth=dob, sex=sex, legal_status=legal,
                            category_of_need="N4", home_postcode="LE4 6AB")
    pid = placement["id"]
    r = await sut.client.post(f"/v1/placements/{pid}/arrival", headers={**key(), **sut.hub()},
                              json={"arrival_date": days(-arrived), "reason_new_episode": rne})
    assert r.status_code == 200, r.text

    async def known():
        p = (await sut.client.get(f"/v1/placements/{pid}", headers=sut.hub())).json()
        return p if p["legal_status_history"] and p["legal_status_history"][0]["legal_status"] == legal else None
    await wait_for(known)
    if change:
        r = await sut.client.post(f"/v1/placements/{pid}/legal-status", headers={**key(), **sut.hub()},
                                  json={"legal_status": change[0], "effective_date": days(-change[1])})
        assert r.status_code == 200, r.text
    if phase_2 is not None:
        await issue_plan(sut, placement)
        r = await sut.client.post(f"/v1/placements/{pid}/phase-2", headers={**key(), **sut.hub()},
                                  json={"effective_date": days(-phase_2), "reason": "recorded late"})
        assert r.status_code == 200, r.text
    if ending:
        r = await sut.client.post(f"/v1/placements/{pid}/ending", headers={**key(), **sut.hub()},
                                  json={"end_date": days(0), **ending})
        assert r.status_code == 200, r.text
    return {"CHILD": child_ref, "SEX": {"female": "F", "male": "M"}.get(sex, "U"), "DOB": _dmy(dob)}


async def test_the_pathways_episodes_pass_the_dfe_validator_for_the_current_collection_year(sut):
    validator903.validator_python()  # build (or fail/skip) before doing any work
    year = validator903.collection_year(today())
    start = date(int(year[:4]), 4, 1)
    home = await onboard_live_home(sut, f"SC{random.randint(100000, 999999)}", postcode="LE4 1AB",
                                   registered_places=4)
    age = lambda years: str(today().replace(year=today().year - years) - timedelta(days=40))  # noqa: E731
    since = min((today() - start).days, 60)
    header = [
        # newly looked after, an interim order becoming a full care order, stepping across to foster care (X1)
        await _pathway(sut, home, dob=age(14), sex="female", rne="S", legal="C1", arrived=since,
                       change=("C2", since // 2), phase_2=max(1, since // 3),
                       ending={"ending_type": "step_down", "destination": "foster_care", "reason_code": "X1",
                               "reason_place_change": "CARPL"}),
        # moved from another placement, went home (E4A)
        await _pathway(sut, home, dob=age(15), sex="male", rne="P", legal="C2", arrived=since, change=None,
                       phase_2=max(1, since // 3),
                       ending={"ending_type": "step_down", "destination": "return_home", "reason_code": "E4A"}),
        # still living there, accommodated under section 20
        await _pathway(sut, home, dob=age(16), sex="female", rne="S", legal="V2", arrived=max(1, since // 2),
                       change=None, phase_2=None, ending=None),
    ]
    got = await sut.client.get("/v1/placements/ssda903-episodes", headers={**sut.council(LEICS), "Accept": "text/csv"},
                               params={"from": str(start), "to": str(date(start.year + 1, 3, 31))})
    assert got.status_code == 200, got.text
    ours = {h["CHILD"] for h in header}
    rows = [r for r in csv.DictReader(io.StringIO(got.text)) if r["CHILD"] in ours]
    assert len(rows) == 4
    # HOME_POST is the council's: the provider keeps only the outward code of the child's home (data
    # minimisation), which the DfE's postcode rule (392c) rightly refuses as a full postcode
    assert {r["HOME_POST"] for r in rows} == {"LE4"}
    judged = validator903.run([{**r, "HOME_POST": ""} for r in rows], header, la=LEICS, year=year)
    assert judged["ruleset"] == f"lac{year.replace('-', '_')}"
    assert judged["ran"] > 300 and {f["code"] for f in judged["failed"]} <= set(validator903.CANNOT_RUN)
    found = judged["errors"]
    def decom(i: int) -> tuple:
        return tuple(reversed(rows[i]["DECOM"].split("/")))
    first = {min((i for i, r in enumerate(rows) if r["CHILD"] == c), key=decom) for c in ours}
    assert set(found.get("357", {}).get("rows", {}).get("Episodes", [])) <= {i for i in first
                                                                             if rows[i]["RNE"] in ("P", "B")}
    assert set(found.get("388", {}).get("rows", {}).get("Episodes", [])) <= {
        i for i, r in enumerate(rows) if r["REC"] == "X1" and r["REASON_PLACE_CHANGE"]}
    errors = {code: e for code, e in found.items()
              if code not in validator903.NOT_APPLICABLE and code not in validator903.WHOLE_RETURN}
    assert errors == {}, errors
