"""GET /v1/placements and GET /v1/deadlines answer a page at a time ({items, next_cursor}, ?limit=,
?cursor=): walking every page shows each record exactly once, also when a placement arrives between
pages, and never another council's; a cursor that is not one this listing handed out is a 422."""
from __future__ import annotations

import base64
import json

from .support.assessment import admit, arrive, every_page, new_home

A, B = "E10000018", "E06000016"


async def walk(sut, url: str, headers: dict, limit: int = 2, between_pages=None, **params) -> list[list[dict]]:
    pages, cursor = [], None
    while True:
        r = await sut.client.get(url, headers=headers,
                                 params={**params, "limit": limit, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        body = r.json()
        # every list's shape; restricted_omitted: a council's rows left out for a restriction (decision 0006)
        assert set(body) - {"restricted_omitted"} == {"items", "next_cursor"} and body.get("restricted_omitted", 0) == 0
        assert len(body["items"]) <= limit
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert len(body["items"]) == limit, "only the last page may be short"
        if between_pages and len(pages) == 1:
            await between_pages()
        assert len(pages) < 100, "the walk does not end"


async def test_a_council_walks_every_placement_page_by_page_once_and_never_another_councils(sut):
    mine = [await admit(sut, await new_home(sut), la_code=A) for _ in range(5)]
    theirs = await admit(sut, await new_home(sut), la_code=B)
    await arrive(sut, mine[2], days_ago=3)   # pending placements have no arrival date; one that has

    async def one_arrives_mid_walk():   # moving pending -> phase_1 while paging must not hide or repeat it
        await arrive(sut, mine[4], days_ago=1)

    pages = await walk(sut, "/v1/placements", sut.council(A), between_pages=one_arrives_mid_walk)
    assert len(pages) >= 3
    seen = [p["id"] for page in pages for p in page]
    assert len(seen) == len(set(seen)), "a placement was on two pages"
    assert {p["id"] for p in mine} <= set(seen)
    assert theirs["id"] not in seen
    assert {p["la_code"] for page in pages for p in page} == {A}
    assert seen == [p["id"] for p in await every_page(sut, "/v1/placements", sut.council(A))]

    # the hub sees both councils; filters narrow the walk and a page of the filtered listing stays filtered
    hub_seen = [p["id"] for page in await walk(sut, "/v1/placements", sut.hub()) for p in page]
    assert len(hub_seen) == len(set(hub_seen)) and {theirs["id"], *(p["id"] for p in mine)} <= set(hub_seen)
    pending = [p for page in await walk(sut, "/v1/placements", sut.hub(), status="pending") for p in page]
    assert {p["status"] for p in pending} == {"pending"} and {mine[0]["id"], mine[1]["id"], mine[3]["id"]} <= {
        p["id"] for p in pending}
    assert mine[2]["id"] not in {p["id"] for p in pending}
    council_b = [p["id"] for page in await walk(sut, "/v1/placements", sut.council(B)) for p in page]
    assert theirs["id"] in council_b and not {p["id"] for p in mine} & set(council_b)


async def test_deadlines_come_a_page_at_a_time_soonest_first_and_only_the_councils_own(sut):
    placement = await admit(sut, await new_home(sut), la_code=A)
    await arrive(sut, placement, days_ago=12)
    whole = await every_page(sut, "/v1/deadlines", sut.hub(), placement=placement["id"])
    assert len(whole) > 4
    pages = await walk(sut, "/v1/deadlines", sut.council(A), placement=placement["id"])
    walked = [d for page in pages for d in page]
    assert walked == whole
    assert [(d["due_date"], d["deadline_key"]) for d in walked] == sorted((d["due_date"], d["deadline_key"])
                                                                          for d in walked)
    assert len({d["deadline_key"] for d in walked}) == len(walked)
    overdue = [d for page in await walk(sut, "/v1/deadlines", sut.council(A), placement=placement["id"],
                                        state="overdue") for d in page]
    assert overdue == [d for d in whole if d["state"] == "overdue"] and overdue
    assert await every_page(sut, "/v1/deadlines", sut.council(B), placement=placement["id"]) == []
    assert placement["id"] not in json.dumps(await every_page(sut, "/v1/deadlines", sut.council(B), limit=2))


async def test_a_cursor_this_listing_did_not_hand_out_is_a_422_naming_query_cursor(sut):
    for _ in range(2):
        await arrive(sut, await admit(sut, await new_home(sut), la_code=A), days_ago=12)
    placements_cursor = (await sut.client.get("/v1/placements", params={"limit": 1},
                                              headers=sut.hub())).json()["next_cursor"]
    deadlines_cursor = (await sut.client.get("/v1/deadlines", params={"limit": 1},
                                             headers=sut.hub())).json()["next_cursor"]
    assert placements_cursor and deadlines_cursor

    def forged(data) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    junk = ["garbage", "", "%25", forged(["p", "2026-11-23T09:00:00", "x"]), forged(["p", {"t": "2026-11-23T09:00:00"},
            "x"]), forged(["p", {"t": "2026-11-23T09:00:00+00:00"}, "x" * 37]), forged(["dl", {"d": "2026-11-23"}, 7]),
            forged(["dl", {"t": "2026-11-23T09:00:00+00:00"}, "k"]), forged({"p": 1}), forged(["p", 2**80, "x"])]
    for url, others in (("/v1/placements", deadlines_cursor), ("/v1/deadlines", placements_cursor)):
        for cursor in [others, *junk]:
            if cursor == "":
                continue   # an empty ?cursor= is no cursor: the first page
            r = await sut.client.get(url, params={"cursor": cursor}, headers=sut.council(A))
            assert r.status_code == 422, (url, cursor, r.text)
            assert r.headers["content-type"] == "application/problem+json"
            assert r.json()["errors"][0]["field"] == "query.cursor", r.text
        for limit in (0, 201):
            r = await sut.client.get(url, params={"limit": limit}, headers=sut.council(A))
            assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.limit", r.text
    assert (await sut.client.get("/v1/placements", params={"cursor": ""}, headers=sut.council(A))).status_code == 200
