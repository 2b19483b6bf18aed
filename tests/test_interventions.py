"""Outreach interventions in the assessment service, driven by outreach.accepted as matching emits it (issue 16):
one intervention per decision however often the event comes; the hub moves it with If-Match, logs sessions (codes,
no names), closes it with an outcome and records the follow-up checks, whose deadlines the sweep sends once; a
council reads only its own children's interventions, and every read is in the access log."""
from __future__ import annotations

import json
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from libs.common.events.catalogue import OutreachAccepted
from libs.common.events.envelope import EventEnvelope
from libs.common.ids import intervention_id_for
from services.assessment.scheduled import sweep
from services.assessment.tables import metadata

from .support.assessment import key

pytestmark = pytest.mark.parametrize("system_overrides", ["inprocess-sqlite"], indirect=True)

A, B = "E10000018", "E06000016"
TODAY = date.today()


def day(n: int) -> str:
    return str(TODAY + timedelta(days=n))


async def accept_outreach(runtime, la_code: str = A, basis: str = "fixed_fee", weeks: int = 6) -> OutreachAccepted:
    """outreach.accepted as matching sends it, handled by assessment's consumer (redelivered and replayed)."""
    payload = OutreachAccepted(admission_id=uuid.uuid4(), referral_id=uuid.uuid4(), team_id=uuid.uuid4(),
                               region="east_midlands", basis=basis, planned_weeks=weeks, planned_start_date=TODAY)
    envelope = EventEnvelope(type="outreach.accepted", producer="matching", subject_id=str(payload.referral_id),
                             la_code=la_code, payload=payload.model_dump(mode="json"))
    for e in (envelope, envelope, envelope.model_copy(update={"id": uuid.uuid4()})):
        await runtime.consumer.handle(e)
    return payload


async def test_an_intervention_runs_from_acceptance_to_its_follow_ups_and_a_council_sees_only_its_own(sut):
    runtime = sut.runtime("assessment")
    accepted = await accept_outreach(runtime)
    other = await accept_outreach(runtime, la_code=B, basis="weekly", weeks=26)
    iid = intervention_id_for(accepted.admission_id)

    listed = (await sut.client.get("/v1/interventions", headers=sut.hub())).json()
    assert [i["id"] for i in listed["items"]] == [iid, intervention_id_for(other.admission_id)]
    mine = (await sut.client.get("/v1/interventions", headers=sut.council(A))).json()["items"]
    assert [(i["id"], i["status"], i["basis"], i["plan"]["goals"]) for i in mine] == [
        (iid, "accepted", "fixed_fee", ["stabilise_placement"])]
    assert (await sut.client.get(f"/v1/interventions/{iid}", headers=sut.council(B))).status_code == 404
    read = await sut.client.get(f"/v1/interventions/{iid}", headers=sut.council(A))
    assert read.status_code == 200 and read.headers["etag"] == '"1"'

    url = f"/v1/interventions/{iid}"
    start = {"status": "active", "effective_date": day(-120)}
    assert (await sut.client.patch(url, json=start, headers=sut.hub())).status_code == 428
    assert (await sut.client.patch(url, json=start, headers={"If-Match": '"1"', **sut.council(A)})).status_code == 403
    stale = await sut.client.patch(url, json=start, headers={"If-Match": '"7"', **sut.hub()})
    assert stale.status_code == 412 and stale.headers["etag"] == '"1"'
    early = await sut.client.patch(url, json={"status": "stepping_down", "effective_date": day(-120)},
                                   headers={"If-Match": '"1"', **sut.hub()})
    assert early.status_code == 409 and early.json()["allowed_moves"] == ["active", "closed"]
    active = await sut.client.patch(url, json=start, headers={"If-Match": '"1"', **sut.hub()})
    assert active.status_code == 200 and active.json()["start_date"] == day(-120), active.text

    plan = await sut.client.put(f"{url}/plan", json={"goals": ["stabilise_placement", "school_attendance"],
                                                     "sessions_per_week": 3}, headers={"If-Match": active.headers["etag"], **sut.hub()})
    assert plan.status_code == 200 and plan.json()["plan"]["version"] == 2
    assert [v["version"] for v in plan.json()["plan_versions"]] == [1, 2]

    bad = await sut.client.post(f"{url}/sessions", json={"session_date": day(-121), "minutes": 60, "with_whom": ["child"]},
                                headers=sut.hub())
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.session_date"
    named = await sut.client.post(f"{url}/sessions", json={"session_date": day(-119), "minutes": 60,
                                                           "with_whom": ["Auntie Jo"]}, headers=sut.hub())
    assert named.status_code == 422 and named.json()["errors"][0]["field"].startswith("body.with_whom")
    for n in range(6):   # weekly sessions over six weeks, a retry of each changing nothing
        headers = {**key(), **sut.hub()}
        body = {"session_date": day(-119 + 7 * n), "minutes": 90, "with_whom": ["child", "carers"] if n else ["child"]}
        first = await sut.client.post(f"{url}/sessions", json=body, headers=headers)
        again = await sut.client.post(f"{url}/sessions", json=body, headers=headers)
        assert first.status_code == again.status_code == 201 and first.json() == again.json(), first.text
    etag = (await sut.client.get(url, headers=sut.hub())).headers["etag"]
    stepping = await sut.client.patch(url, json={"status": "stepping_down", "effective_date": day(-75)},
                                      headers={"If-Match": etag, **sut.hub()})
    assert stepping.status_code == 200, stepping.text
    no_outcome = await sut.client.patch(url, json={"status": "closed", "effective_date": day(-70)},
                                        headers={"If-Match": stepping.headers["etag"], **sut.hub()})
    assert no_outcome.status_code == 422 and no_outcome.json()["errors"][0]["rule"] == "outcome"
    closed = await sut.client.patch(url, json={"status": "closed", "effective_date": day(-70), "outcome": "stabilised",
                                               "stabilised_on": day(-80)},
                                    headers={"If-Match": stepping.headers["etag"], **sut.hub()})
    assert closed.status_code == 200 and closed.json()["session_count"] == 6, closed.text
    assert [(f["checkpoint"], f["state"]) for f in closed.json()["follow_ups"]] == [
        ("6_weeks", "overdue"), ("3_months", "upcoming"), ("6_months", "upcoming")]
    early_check = await sut.client.post(f"{url}/follow-ups", json={"checkpoint": "3_months", "held": True,
                                                                   "recorded_on": day(0)}, headers=sut.hub())
    assert early_check.status_code == 422 and early_check.json()["errors"][0]["rule"] == "not_yet_due"

    # the sweep, on the day the 6-week check falls due and after it, sends each notice once
    due = TODAY - timedelta(days=70) + timedelta(weeks=6)
    assert [k.split(":")[-1] for k in (await sweep(runtime, today=due - timedelta(days=2)))["due_soon"]] == ["6_weeks"]
    assert (await sweep(runtime, today=due - timedelta(days=1)))["due_soon"] == []
    assert [k.split(":")[-1] for k in (await sweep(runtime, today=due + timedelta(days=1)))["missed"]] == ["6_weeks"]
    checked = await sut.client.post(f"{url}/follow-ups", json={"checkpoint": "6_weeks", "held": True,
                                                               "recorded_on": str(due - timedelta(days=3))},
                                    headers={**key(), **sut.hub()})
    assert checked.status_code == 201 and checked.json()["due_date"] == str(due), checked.text
    seen = (await sut.client.get(url, headers=sut.council(A))).json()
    assert seen["status"] == "closed" and seen["outcome"] == "stabilised" and seen["stabilised_on"] == day(-80)

    outbox = metadata.tables["outbox"]
    async with runtime.db.session() as session:
        events = [json.loads(r.envelope) for r in (await session.execute(
            select(outbox.c.envelope).where(outbox.c.key == iid).order_by(outbox.c.seq))).all()]
    types = [e["type"] for e in events]
    assert types.count("intervention.started") == 1 and types.count("intervention.session_logged") == 6
    assert [e["payload"]["to_status"] for e in events if e["type"] == "intervention.status_changed"] == [
        "active", "stepping_down", "closed"]
    [closed_event] = [e for e in events if e["type"] == "intervention.closed"]
    assert closed_event["payload"]["start_date"] == day(-120) and closed_event["payload"]["sessions"] == 6
    assert all(e["la_code"] == A for e in events)
    assert "Auntie" not in json.dumps(events)
    notices = [e for e in events if e["type"].startswith("deadline.")]
    assert [(e["payload"]["kind"], e["payload"]["item"], e["payload"]["placement_id"]) for e in notices] == [
        ("follow_up", "6_weeks", None), ("follow_up", "6_weeks", None)]

    audit = (await sut.client.get("/v1/audit/access", params={"child": str(accepted.referral_id)},
                                  headers=sut.hub())).json()["items"]
    assert {("read", f"council-{A}", "GET /v1/interventions/{id}"), ("read", f"council-{A}", "GET /v1/interventions"),
            ("update", "hub-hub", "PATCH /v1/interventions/{id}")} <= {(r["action"], r["client_id"], r["route"])
                                                                      for r in audit}
