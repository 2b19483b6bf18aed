"""The 3-bed blueprint scenario through the real APIs, and each child's phase on any chosen date."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from itp.blueprint import Blueprint, arrivals
from services.matching.seed import BLUEPRINT_HOME_ID, seed_blueprint_home
from services.matching.tables import metadata as matching_metadata

pytestmark = pytest.mark.parametrize("system_overrides", ["inprocess-sqlite"], indirect=True)


async def phases_on(sut, day: date) -> dict[str, tuple[str, int | None]]:
    r = await sut.client.get("/v1/placements", params={"home": BLUEPRINT_HOME_ID, "as_of": str(day)},
                             headers=sut.hub())
    assert r.status_code == 200, r.text
    assert r.json()["next_cursor"] is None
    return {p["referral_id"]: (p["phase"], p["day"]) for p in r.json()["items"]}


async def test_the_blueprint_home_fills_a_month_at_a_time_and_a_step_down_frees_the_next_pathway_bed(sut):
    matching = sut.runtime("matching")
    await seed_blueprint_home(matching.db, matching_metadata.tables["outbox"])
    today = date.today()
    ids = await Blueprint(sut.client, sut.hub(), sut.council("E10000018"), today).run()
    when = arrivals(today)
    placements = {name: (await sut.client.get(f"/v1/placements/{pid}", headers=sut.hub())).json()
                  for name, pid in ids.items()}
    child = {name: p["referral_id"] for name, p in placements.items()}

    now = await phases_on(sut, today)
    assert now[child["A"]] == ("ended", None)
    assert now[child["B"]][0] == now[child["C"]][0] == "phase_2"
    assert now[child["D"]] == ("phase_1", (today - when["D"]).days + 1)

    early = await phases_on(sut, when["A"] + timedelta(days=10))
    assert early[child["A"]] == ("phase_1", 11)
    assert {early[child[n]][0] for n in "BCD"} == {"pending"}
    month_2 = await phases_on(sut, when["B"] + timedelta(days=3))
    assert month_2[child["A"]][0] == "phase_2" and month_2[child["B"]] == ("phase_1", 4)
    month_3 = await phases_on(sut, when["C"])
    assert [month_3[child[n]][0] for n in "ABC"] == ["phase_2", "phase_2", "phase_1"]  # 3/3: full

    # D sleeps in A's bed; A's ending was a planned step-down to foster care, code X1
    assert placements["D"]["bed_id"] == placements["A"]["bed_id"]
    assert placements["A"]["ending"]["type"] == "step_down" and placements["A"]["ending"]["reason_code"] == "X1"
    beds = (await sut.client.get(f"/v1/homes/{BLUEPRINT_HOME_ID}/beds", headers=sut.hub())).json()["items"]
    assert sorted(b["state"] for b in beds) == ["occupied"] * 3
    a_reviews = (await sut.client.get(f"/v1/placements/{ids['A']}/reviews", headers=sut.hub())).json()["items"]
    assert [r["kind"] for r in a_reviews if r["completed_on"]] == ["90_day", "six_monthly"]
    single = (await sut.client.get(f"/v1/placements/{ids['A']}", params={"as_of": str(when["D"] - timedelta(days=1))},
                                   headers=sut.council("E10000018"))).json()
    assert single["phase"] == "phase_2" and single["day"] == (when["D"] - when["A"]).days
