"""Helpers for the outcomes tests: SDQ answers with a chosen total, waiting for outcomes to know a placement,
recording measures through the gateway."""
from __future__ import annotations

from datetime import timedelta

from itp.testing import wait_for

from .assessment import today, key


def sdq_items(total: int) -> dict[str, int]:
    """A parent SDQ whose total difficulties is `total` (prosocial 5): difficulty items raised in turn."""
    items = {str(i): 0 for i in range(1, 26)}
    for i in (7, 11, 14, 21, 25):
        items[str(i)] = 2                         # reverse-scored: 'certainly true' scores 0
    for i in (1, 4, 9, 17, 20):
        items[str(i)] = 1
    left = total
    for i in (3, 8, 13, 16, 24, 5, 7, 12, 18, 22, 2, 10, 15, 21, 25, 6, 11, 14, 19, 23):
        step = min(2, left)
        items[str(i)] = 2 - step if i in (7, 11, 14, 21, 25) else step
        left -= step
    return items


async def known_to_outcomes(sut, placement_id: str) -> dict:
    async def known():
        r = await sut.client.get(f"/v1/outcomes/placements/{placement_id}", headers=sut.hub())
        return r.json() if r.status_code == 200 else None
    return await wait_for(known)


async def record(sut, placement_id: str, timepoint: str, days_ago: int, total: int | None = None, **groups):
    body = {"timepoint": timepoint, "recorded_on": str(today() - timedelta(days=days_ago)), **groups}
    if total is not None:
        body["sdq"] = {"informant": "parent", "items": sdq_items(total)}
    r = await sut.client.post(f"/v1/outcomes/placements/{placement_id}/measures", json=body,
                              headers={**key(), **sut.hub()})
    assert r.status_code == 200, r.text
    return r.json()
