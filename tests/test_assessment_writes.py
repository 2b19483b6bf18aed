"""The assessment API on the shared write toolkit (libs/common/http): the stored answer on a replay says
so, a malformed If-Match is a 400 and a weak or listed ETag is accepted, a stale one answers the current
ETag, an edit answers the new one, collections a client sends are bounded, and keys older than the
retention window are purged by the periodic job."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from services.assessment.scheduled import purge_keys
from services.assessment.tables import idempotent_requests

from .support.assessment import SECTIONS, admit, arrive, days, issue_plan, key, new_home


async def test_replays_preconditions_and_bounds_on_the_assessment_api(sut):
    home = await new_home(sut)
    placement = await admit(sut, home)
    pid = placement["id"]

    # a replay answers the stored response and says so; a malformed key is refused before anything runs
    arrival_key = key()
    body = {"arrival_date": days(-40), "key_worker": "KW-1"}
    first = await sut.client.post(f"/v1/placements/{pid}/arrival", json=body, headers={**arrival_key, **sut.hub()})
    assert first.status_code == 200, first.text
    assert "idempotent-replayed" not in first.headers
    again = await sut.client.post(f"/v1/placements/{pid}/arrival", json=body, headers={**arrival_key, **sut.hub()})
    assert again.status_code == 200 and again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    reused = await sut.client.post(f"/v1/placements/{pid}/arrival", json={**body, "key_worker": "KW-2"},
                                   headers={**arrival_key, **sut.hub()})
    assert reused.status_code == 422 and reused.json()["type"].endswith("/idempotency-key-reused")
    bad_key = await sut.client.post(f"/v1/placements/{pid}/tasks/soft_landing/complete", json={"done_on": days(0)},
                                    headers={"Idempotency-Key": "not a key", **sut.hub()})
    assert bad_key.status_code == 400 and bad_key.json()["type"].endswith("/idempotency-key-invalid")

    # If-Match on the plan: malformed 400, missing 428, stale 412 with the current ETag; weak tags and lists match
    plan = await sut.client.get(f"/v1/placements/{pid}/plan", headers=sut.hub())
    plan_url, tag = f"/v1/plans/{plan.json()['id']}", plan.headers["etag"]
    edit = {"sections": {"health_plan": "GP and dentist."}}
    malformed = await sut.client.patch(plan_url, json=edit, headers={"If-Match": "3", **sut.hub()})
    assert malformed.status_code == 400 and malformed.json()["type"].endswith("/if-match-invalid")
    assert malformed.json()["errors"][0]["field"] == "header.if-match"
    missing = await sut.client.patch(plan_url, json=edit, headers=sut.hub())
    assert missing.status_code == 428 and missing.json()["type"].endswith("/if-match-required")
    stale = await sut.client.patch(plan_url, json=edit, headers={"If-Match": '"99"', **sut.hub()})
    assert stale.status_code == 412 and stale.headers["etag"] == tag and stale.json()["current_etag"] == tag
    assert stale.json()["type"].endswith("/stale-etag")
    weak = await sut.client.patch(plan_url, json=edit, headers={"If-Match": f'"98", W/{tag}', **sut.hub()})
    assert weak.status_code == 200, weak.text
    assert weak.json()["draft"]["health_plan"] == "GP and dentist."
    new_tag = weak.headers["etag"]
    assert new_tag != tag and (await sut.client.get(plan_url, headers=sut.hub())).headers["etag"] == new_tag
    issued = await issue_plan(sut, placement)
    assert issued["issued_version"] == 1

    # every collection a client sends is bounded
    reviews = (await sut.client.get(f"/v1/placements/{pid}/reviews", headers=sut.hub())).json()["items"]
    review = {"completed_on": days(0), "findings": "Settled.", "attendees": [f"a{i}" for i in range(51)]}
    too_many = await sut.client.post(f"/v1/reviews/{reviews[0]['id']}/complete", json=review, headers=sut.hub())
    assert too_many.status_code == 422 and too_many.json()["errors"][0]["field"] == "body.attendees"
    too_long = await sut.client.post(f"/v1/reviews/{reviews[0]['id']}/complete", headers=sut.hub(),
                                     json={**review, "attendees": ["x" * 201]})
    assert too_long.status_code == 422 and too_long.json()["errors"][0]["field"].startswith("body.attendees")
    statuses = await sut.client.get("/v1/placements", headers=sut.hub(), params={
        "status": ["pending", "phase_1", "phase_2", "ended", "pending"]})
    assert statuses.status_code == 422 and statuses.json()["errors"][0]["field"] == "query.status"
    extra = await sut.client.post(f"/v1/reviews/{reviews[0]['id']}/complete", headers=sut.hub(),
                                  json={**review, "attendees": ["sw"], "sections": {**SECTIONS, "other": "x"}})
    assert extra.status_code == 422


async def test_the_periodic_job_forgets_idempotency_keys_after_24_hours(sut):
    home = await new_home(sut)
    placement = await arrive(sut, await admit(sut, home), days_ago=5)
    runtime = sut.runtime("assessment")
    old_key = str(uuid.uuid4())
    async with runtime.uow() as uow:
        await uow.session.execute(idempotent_requests.insert().values(
            client_id="hub-hub", key=old_key, route="POST /v1/elsewhere", body_sha256="0" * 64, status_code=200,
            response={"body": {}, "headers": {}, "child_records": []},
            created_at=datetime.now(timezone.utc) - timedelta(hours=25)))
        await uow.commit()

    fresh = key()
    done = {"done_on": days(-1)}
    url = f"/v1/placements/{placement['id']}/tasks/soft_landing/complete"
    assert (await sut.client.post(url, json=done, headers={**fresh, **sut.hub()})).status_code == 200
    assert await purge_keys(runtime) == 1
    async with runtime.db.session() as session:
        kept = (await session.execute(idempotent_requests.select())).mappings().all()
    assert old_key not in {r["key"] for r in kept} and fresh["Idempotency-Key"] in {r["key"] for r in kept}
    replay = await sut.client.post(url, json=done, headers={**fresh, **sut.hub()})
    assert replay.headers["idempotent-replayed"] == "true"
    # a day later even the fresh key is gone
    assert await purge_keys(runtime, datetime.now(timezone.utc) + timedelta(hours=25)) >= 1
