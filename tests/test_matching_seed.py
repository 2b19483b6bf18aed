"""`itp seed demo` seeds the 3-bed blueprint home: live, three beds, one Pathway Bed, checklist done."""
from __future__ import annotations

from itp.seed import seed_demo, seed_matching

from .support.matching import ranked, refer


async def test_the_demo_seed_has_the_blueprint_home_and_a_second_run_adds_nothing(sut):
    await seed_demo(**sut.overrides)
    assert await seed_matching(**sut.overrides) is False
    homes = (await sut.client.get("/v1/homes", headers=sut.hub())).json()["items"]
    assert len(homes) == 1
    (home,) = homes
    assert home["urn"] == "SC900001" and home["status"] == "live" and home["matchable"]
    assert home["postcode_district"] == "LE4"
    assert len(home["beds"]) == 3 and sum(b["is_pathway"] for b in home["beds"]) == 1
    assert all(i["done"] for i in home["checklist"])
    ranking = await ranked(sut, await refer(sut))
    assert [o["home_id"] for o in ranking["options"]] == [home["id"]]
