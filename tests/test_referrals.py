"""The referral API as a council's case-management system and the hub use it, through the gateway.

Most behaviour runs on the embedded system only (fast); the event-driven paths and the name scan run
on both transports, and the concurrent Idempotency-Key race runs on Postgres."""
from __future__ import annotations

import asyncio
import io
import json
import logging
import uuid
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from libs.common.auth import KeyStore, mint_service_token
from libs.common.events.catalogue import AdmissionAccepted, AdmissionDeclined, ImpactRiskAssessed, MatchAssessed
from libs.common.observability import JsonFormatter
from services.referral.scheduled import expire_overdue, purge_old_idempotency_keys
from services.gateway.domain.principals import COUNCIL_SCOPES
from services.referral.tables import idempotent_requests, referrals

from .support import wait_for
from .support.referrals import (LEICESTER, LEICS, REFERRAL, create_referral as refer, emit_from_matching,
                                 events_of, idempotent)

embedded = pytest.mark.parametrize("system_overrides", ["inprocess-sqlite"], indirect=True)
postgres = pytest.mark.parametrize("system_overrides", ["kafka-postgres"], indirect=True)


async def handled(sut, service: str, event_ids) -> bool:
    """Has the service's consumer handled (committed to its inbox) every one of these events?"""
    inbox = sut.runtime(service).tables[1]
    async with sut.runtime(service).db.session() as session:
        seen = set((await session.execute(select(inbox.c.event_id).where(
            inbox.c.event_id.in_([str(i) for i in event_ids])))).scalars().all())
    return seen == {str(i) for i in event_ids}


async def dead_letters(sut, service: str) -> list:
    table = sut.runtime(service).tables[2]
    async with sut.runtime(service).db.session() as session:
        return list((await session.execute(select(table.c.event_id))).scalars().all())


# --- Idempotency-Key ---------------------------------------------------------------------------------
@embedded
async def test_the_same_key_and_body_returns_the_same_referral_and_another_body_is_refused(sut):
    headers = {**sut.council(LEICS), "Idempotency-Key": "case-417-attempt"}
    first = await sut.client.post("/v1/referrals", json=REFERRAL, headers=headers)
    # the same body with its keys in another order is the same body
    again = await sut.client.post("/v1/referrals", json=dict(reversed(list(REFERRAL.items()))), headers=headers)
    # a replay answers the stored first response (IETF Idempotency-Key draft): its status, body and headers
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["etag"] == first.headers["etag"]

    other = await sut.client.post("/v1/referrals", json={**REFERRAL, "urgency": "planned"}, headers=headers)
    assert other.status_code == 422
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["type"].endswith("/idempotency-key-reused")

    # keys are per council: another council's identical key makes its own referral
    theirs = await sut.client.post("/v1/referrals", json=REFERRAL,
                                   headers={**sut.council(LEICESTER), "Idempotency-Key": "case-417-attempt"})
    assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]
    assert [e["type"] for e in await events_of(sut)] == ["referral.received", "referral.received"]


@embedded
async def test_idempotency_keys_are_forgotten_after_the_retention_window(sut):
    from datetime import datetime, timezone

    made = await refer(sut, key="kept-a-day")
    rt, settings = sut.runtime("referral"), sut.system.services["referral"].state.referral_settings
    assert settings.idempotency_retention_hours == 24
    now = datetime.now(timezone.utc)
    assert await purge_old_idempotency_keys(rt, settings, now + timedelta(hours=23)) == 0
    replay = await sut.client.post("/v1/referrals", json=REFERRAL,
                                   headers={**sut.council(), "Idempotency-Key": "kept-a-day"})
    assert replay.headers["idempotent-replayed"] == "true" and replay.json()["id"] == made["id"]
    assert await purge_old_idempotency_keys(rt, settings, now + timedelta(hours=25)) == 1
    assert await purge_old_idempotency_keys(rt, settings, now + timedelta(hours=25)) == 0  # safe to run twice


@embedded
async def test_a_referral_without_an_idempotency_key_is_refused_with_a_problem(sut):
    r = await sut.client.post("/v1/referrals", json=REFERRAL, headers=sut.council())
    assert r.status_code == 400 and r.json()["type"].endswith("/idempotency-key-missing")
    r = await sut.client.post("/v1/referrals", json=REFERRAL, headers={**sut.council(), "Idempotency-Key": "a b"})
    assert r.status_code == 400 and r.json()["type"].endswith("/idempotency-key-invalid")


@postgres
async def test_fifty_concurrent_posts_with_one_key_create_one_referral_and_one_etag_admits_one_change(sut):
    headers = {**sut.council(LEICS), "Idempotency-Key": "storm-1"}
    answers = await asyncio.gather(*[sut.client.post("/v1/referrals", json=REFERRAL, headers=headers)
                                     for _ in range(50)])
    # requests overlapping the first are told it is still in flight (409, Retry-After); the others replay it
    for a in answers:
        assert a.status_code in (201, 409), a.text
        if a.status_code == 409:
            assert a.json()["type"].endswith("/idempotency-key-in-flight") and a.headers["retry-after"]
    firsts = [a for a in answers if a.status_code == 201 and "idempotent-replayed" not in a.headers]
    assert len(firsts) == 1
    # a retry of an in-flight answer, once the first has finished, is the same referral (one at a time: retries
    # overlapping each other would be told 409 again, which is the same rule)
    retries = [await sut.client.post("/v1/referrals", json=REFERRAL, headers=headers)
               for a in answers if a.status_code == 409]
    for r in retries:
        assert r.status_code == 201 and r.headers["idempotent-replayed"] == "true", r.text
    done = [a for a in answers if a.status_code == 201] + list(retries)
    assert len(done) == 50 and len({a.json()["id"] for a in done}) == 1
    rt = sut.runtime("referral")
    async with rt.db.session() as session:
        assert (await session.execute(select(func.count()).select_from(referrals))).scalar_one() == 1
        assert (await session.execute(select(func.count()).select_from(idempotent_requests))).scalar_one() == 1
    assert [e["type"] for e in await events_of(sut)] == ["referral.received"]

    # ten concurrent changes on one ETag: one wins, the others are told their copy is stale
    rid = firsts[0].json()["id"]
    changes = await asyncio.gather(*[sut.client.patch(f"/v1/referrals/{rid}", json={"summary": f"change {i}"},
                                                      headers={**sut.council(LEICS), "If-Match": '"1"'})
                                     for i in range(10)])
    assert sorted(c.status_code for c in changes) == [200] + [412] * 9
    got = (await sut.client.get(f"/v1/referrals/{rid}", headers=sut.council(LEICS))).json()
    assert got["version"] == 2
    assert [e["type"] for e in await events_of(sut)] == ["referral.received", "referral.updated"]


# --- validation --------------------------------------------------------------------------------------
@embedded
async def test_each_broken_rule_is_a_problem_naming_the_field_and_the_rule(sut):
    bad = {**REFERRAL, "legal_status": "X9", "home_postcode": "LE4 6A",
           "needs": [{"code": "naughtiness", "severity": "high"}],
           "risks": [{"code": "self_harm", "severity": "extreme"}],
           "social_worker": {"name": "Sam Patel", "email": "not-an-email"}}
    r = await sut.client.post("/v1/referrals", json=bad, headers=idempotent(sut.council()))
    assert r.status_code == 422
    rules = {e["field"]: e["rule"] for e in r.json()["errors"]}
    assert rules["body.legal_status"] == "legal_status_code"
    assert rules["body.home_postcode"] == "uk_postcode"
    assert rules["body.needs"] == "controlled_vocabulary"
    assert rules["body.risks.0.severity"] == "literal_error"
    assert rules["body.social_worker.email"] == "string_pattern_mismatch"

    too_young = {**REFERRAL, "date_of_birth": "2019-01-01"}
    r = await sut.client.post("/v1/referrals", json=too_young, headers=idempotent(sut.council()))
    assert r.status_code == 422
    assert r.json()["errors"] == [{"field": "body.date_of_birth", "rule": "age_range",
                                   "message": "the child would be 7 on 2026-11-23; the homes take children aged 8 to 17"}]
    assert (await events_of(sut)) == []


@embedded
async def test_only_the_outward_code_of_the_home_postcode_is_stored(sut):
    made = await refer(sut, home_postcode="le4 6ab")
    assert made["home_outward_code"] == "LE4" and "home_postcode" not in made
    rt = sut.runtime("referral")
    async with rt.db.session() as session:
        row = (await session.execute(select(referrals).where(referrals.c.id == made["id"]))).mappings().one()
    assert "6AB" not in json.dumps({k: str(v) for k, v in row.items()}).upper()
    assert (await events_of(sut))[0]["payload"]["home_outward_code"] == "LE4"


@embedded
async def test_the_vocabulary_is_published_for_integrators(sut):
    v = (await sut.client.get("/v1/referrals/vocabulary", headers=sut.council())).json()
    assert {"code": "sexual_exploitation_risk", "group": "safety"}.items() <= v["needs_and_risks"][0].items()
    assert v["severities"] == ["low", "medium", "high"] and "V2" in v["legal_statuses"]


# --- tenancy and audit -------------------------------------------------------------------------------
@embedded
async def test_another_councils_referral_is_not_there_for_any_read_or_change(sut):
    mine = await refer(sut, LEICS)
    theirs_headers = sut.council(LEICESTER)
    path = f"/v1/referrals/{mine['id']}"
    assert (await sut.client.get(path, headers=theirs_headers)).status_code == 404
    assert (await sut.client.patch(path, json={"urgency": "planned"},
                                   headers={**theirs_headers, "If-Match": '"1"'})).status_code == 404
    assert (await sut.client.post(path + "/withdraw", headers=theirs_headers)).status_code == 404
    for query in ("", "?awaiting=decision", f"?child_ref={REFERRAL['child_ref']}", "?status=received"):
        listed = await sut.client.get("/v1/referrals" + query, headers=theirs_headers)
        assert listed.status_code == 200 and listed.json() == {"items": [], "next_cursor": None}
    hub = await sut.client.get("/v1/referrals?awaiting=decision", headers=sut.hub())
    assert [i["id"] for i in hub.json()["items"]] == [mine["id"]]
    assert (await sut.client.get(path, headers=sut.council(LEICS))).status_code == 200


@embedded
async def test_every_read_and_change_names_the_child_record_for_the_access_audit(sut):
    # straight to the service, as the gateway calls it: with the gateway's internal token, not a council's
    keys = KeyStore(sut.runtime("gateway").settings.resolved_keys_file)
    council = {"Authorization": "Bearer " + mint_service_token(keys, client_id="council-E10000018",
                                                               la_code="E10000018", scopes=COUNCIL_SCOPES)}
    hub = {"Authorization": "Bearer " + mint_service_token(keys, client_id="hub-hub", role="hub")}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sut.system.services["referral"]),
                                 base_url="http://referral") as service:
        created = await service.post("/v1/referrals", json=REFERRAL, headers=idempotent(council))
        rid = created.json()["id"]
        calls = [created,
                 await service.get(f"/v1/referrals/{rid}", headers=council),
                 await service.get("/v1/referrals", headers=council),
                 await service.get("/v1/referrals?awaiting=decision", headers=hub),
                 await service.patch(f"/v1/referrals/{rid}", json={"urgency": "urgent"},
                                     headers={**council, "If-Match": '"1"'}),
                 await service.post(f"/v1/referrals/{rid}/withdraw", headers=council)]
        for r in calls:
            assert r.status_code in (200, 201), r.text
            assert r.headers["x-itp-child-records"] == rid
        missing = await service.get(f"/v1/referrals/{uuid.uuid4()}", headers=council)
        assert "x-itp-child-records" not in missing.headers


# --- updates and withdrawal --------------------------------------------------------------------------
@embedded
async def test_a_change_needs_the_current_etag(sut):
    made = await refer(sut)
    path = f"/v1/referrals/{made['id']}"
    got = await sut.client.get(path, headers=sut.council())
    assert got.headers["etag"] == '"1"'

    missing = await sut.client.patch(path, json={"urgency": "urgent"}, headers=sut.council())
    assert missing.status_code == 428
    changed = await sut.client.patch(path, json={"urgency": "urgent", "home_postcode": "LE1 1AA"},
                                     headers={**sut.council(), "If-Match": '"1"'})
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"2"'
    assert changed.json()["urgency"] == "urgent" and changed.json()["home_outward_code"] == "LE1"
    assert changed.json()["needs"] == REFERRAL["needs"]  # a merge patch keeps what it does not name

    # a retry of the same change is harmless; another change on the old ETag is refused
    retry = await sut.client.patch(path, json={"urgency": "urgent"}, headers={**sut.council(), "If-Match": '"1"'})
    assert retry.status_code == 200 and retry.json()["version"] == 2
    stale = await sut.client.patch(path, json={"urgency": "planned"}, headers={**sut.council(), "If-Match": 'W/"1"'})
    assert stale.status_code == 412 and stale.json()["current_etag"] == '"2"'

    null = await sut.client.patch(path, json={"urgency": None}, headers={**sut.council(), "If-Match": '"2"'})
    assert null.status_code == 422 and null.json()["errors"][0]["field"] == "body.urgency"
    too_old = await sut.client.patch(path, json={"date_of_birth": "2005-01-01"},
                                     headers={**sut.council(), "If-Match": '"2"'})
    assert too_old.status_code == 422 and too_old.json()["errors"][0]["rule"] == "age_range"

    events = await events_of(sut)
    assert [e["type"] for e in events] == ["referral.received", "referral.updated"]
    assert events[1]["payload"]["urgency"] == "urgent" and events[1]["payload"]["status"] == "received"


@embedded
async def test_withdrawing_is_final_and_safe_to_retry(sut):
    made = await refer(sut)
    path = f"/v1/referrals/{made['id']}"
    first = await sut.client.post(path + "/withdraw", json={"reason": "placed_elsewhere"}, headers=sut.council())
    assert first.status_code == 200
    assert first.json()["status"] == "withdrawn" and first.json()["allowed_moves"] == []
    assert first.json()["decision_reason"] == "placed_elsewhere"
    again = await sut.client.post(path + "/withdraw", headers=sut.council())
    assert again.status_code == 200 and again.json()["version"] == first.json()["version"]

    patch = await sut.client.patch(path, json={"urgency": "urgent"},
                                   headers={**sut.council(), "If-Match": f'"{first.json()["version"]}"'})
    assert patch.status_code == 409
    assert patch.json()["current_status"] == "withdrawn" and patch.json()["allowed_moves"] == []
    events = await events_of(sut)
    assert [e["type"] for e in events] == ["referral.received", "referral.withdrawn", "referral.status_changed"]
    assert events[-1]["payload"]["from_status"] == "received" and events[-1]["payload"]["to_status"] == "withdrawn"
    assert events[1]["payload"]["reason"] == "placed_elsewhere"


# --- lists -------------------------------------------------------------------------------------------
@embedded
async def test_a_council_pages_through_its_referrals_with_a_cursor_and_filters(sut):
    made = [await refer(sut, urgency=u) for u in ("crisis", "planned", "urgent", "crisis", "planned")]
    seen, cursor = [], None
    while True:
        page = (await sut.client.get("/v1/referrals", params={"limit": 2, **({"cursor": cursor} if cursor else {})},
                                     headers=sut.council())).json()
        assert len(page["items"]) <= 2
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [m["id"] for m in reversed(made)]  # newest first, each once

    planned = (await sut.client.get("/v1/referrals?urgency=planned", headers=sut.council())).json()["items"]
    assert {i["id"] for i in planned} == {made[1]["id"], made[4]["id"]}
    # repeated filters reach the service through the gateway as they were sent
    several = (await sut.client.get("/v1/referrals?urgency=planned&urgency=urgent", headers=sut.council())).json()
    assert len(several["items"]) == 3
    today = date.today().isoformat()
    assert len((await sut.client.get(f"/v1/referrals?received_from={today}&received_to={today}",
                                     headers=sut.council())).json()["items"]) == 5
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    assert (await sut.client.get(f"/v1/referrals?received_from={tomorrow}",
                                 headers=sut.council())).json()["items"] == []
    bad = await sut.client.get("/v1/referrals?cursor=garbage", headers=sut.council())
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.cursor"
    assert (await sut.client.get("/v1/referrals?limit=201", headers=sut.council())).status_code == 422


@embedded
async def test_the_hub_queue_puts_crisis_first_then_the_longest_waiting(sut):
    planned = await refer(sut, urgency="planned")
    crisis_old = await refer(sut, urgency="crisis")
    urgent = await refer(sut, LEICESTER, urgency="urgent")
    crisis_new = await refer(sut, LEICESTER, urgency="crisis")
    gone = await refer(sut, urgency="crisis")
    await sut.client.post(f"/v1/referrals/{gone['id']}/withdraw", headers=sut.council())

    items = (await sut.client.get("/v1/referrals?awaiting=decision", headers=sut.hub())).json()["items"]
    assert [i["id"] for i in items] == [crisis_old["id"], crisis_new["id"], urgent["id"], planned["id"]]
    assert all(isinstance(i["waiting_seconds"], int) and i["waiting_seconds"] >= 0 for i in items)
    assert items[0]["received_at"] <= items[1]["received_at"]

    first = (await sut.client.get("/v1/referrals?awaiting=decision&limit=3", headers=sut.hub())).json()
    rest = (await sut.client.get("/v1/referrals", params={"awaiting": "decision", "limit": 3,
                                                         "cursor": first["next_cursor"]}, headers=sut.hub())).json()
    assert [i["id"] for i in first["items"] + rest["items"]] == [i["id"] for i in items]
    assert rest["next_cursor"] is None


# --- decisions from matching, and expiry -------------------------------------------------------------
async def test_the_hubs_assessment_and_decision_move_the_referral_on(sut):
    accepted, declined = await refer(sut), await refer(sut)

    async def status_of(rid, wanted):
        r = await sut.client.get(f"/v1/referrals/{rid}", headers=sut.council())
        return r.json() if r.json()["status"] == wanted else None

    await emit_from_matching(sut, ImpactRiskAssessed(referral_id=accepted["id"], rules_version="t",
                                                     homes_considered=2, homes_ranked=1), accepted["id"])
    assessed = await wait_for(lambda: status_of(accepted["id"], "in_assessment"))
    assert assessed["version"] == 2
    await emit_from_matching(sut, AdmissionAccepted(admission_id=uuid.uuid4(), referral_id=accepted["id"],
                                                    home_id=uuid.uuid4(), bed_id=uuid.uuid4(),
                                                    planned_start_date=date(2026, 11, 24)), accepted["id"])
    await emit_from_matching(sut, AdmissionDeclined(admission_id=uuid.uuid4(), referral_id=declined["id"],
                                                    reason_code="risk_to_current_group"), declined["id"])
    done = await wait_for(lambda: status_of(accepted["id"], "accepted"))
    assert done["allowed_moves"] == [] and done["decided_at"]
    refused = await wait_for(lambda: status_of(declined["id"], "declined"))
    assert refused["decision_reason"] == "risk_to_current_group"

    # a late assessment of a decided referral (under the former type, match.assessed, which is still
    # handled) changes nothing, and is not a failure
    async with sut.runtime("matching").uow() as uow:
        late = await uow.emit(MatchAssessed(referral_id=accepted["id"], rules_version="t", homes_considered=2,
                                            homes_ranked=1), subject_id=accepted["id"], la_code=LEICS)
        await uow.commit()
    withdraw = await sut.client.post(f"/v1/referrals/{accepted['id']}/withdraw", headers=sut.council())
    assert withdraw.status_code == 409 and withdraw.json()["allowed_moves"] == []
    queue = (await sut.client.get("/v1/referrals?awaiting=decision", headers=sut.hub())).json()["items"]
    assert queue == []
    # the consumer has handled the late event (it is in the inbox, not dead-lettered): only now is
    # "nothing changed" a finding rather than a race
    await wait_for(lambda: handled(sut, "referral", [late.id]))
    assert not await dead_letters(sut, "referral")
    assert (await status_of(accepted["id"], "accepted"))["version"] == done["version"]


@embedded
async def test_an_undecided_referral_expires_after_its_wanted_start_date_once(sut):
    today = date.today()
    soon = await refer(sut, wanted_start_date=str(today))
    later = await refer(sut, wanted_start_date=str(today + timedelta(days=27)))
    rt, settings = sut.runtime("referral"), sut.system.services["referral"].state.referral_settings
    assert settings.expire_after_days == 14
    assert await expire_overdue(rt, settings, today + timedelta(days=13)) == []
    assert await expire_overdue(rt, settings, today + timedelta(days=14)) == [soon["id"]]
    assert await expire_overdue(rt, settings, today + timedelta(days=14)) == []  # a second run changes nothing
    got = (await sut.client.get(f"/v1/referrals/{soon['id']}", headers=sut.council())).json()
    assert got["status"] == "expired" and got["decision_reason"] == "not_decided_in_time"
    assert (await sut.client.get(f"/v1/referrals/{later['id']}", headers=sut.council())).json()["status"] == "received"
    updated = [e for e in await events_of(sut) if e["type"] == "referral.updated"]
    assert [(e["subject_id"], e["payload"]["status"]) for e in updated] == [(soon["id"], "expired")]
    # matching hears of it: an expired referral can no longer be decided
    decided = await sut.client.post("/v1/admissions", headers={**sut.hub(), "Idempotency-Key": str(uuid.uuid4())},
                                    json={"referral_id": soon["id"], "decision": "decline", "reason_code": "no_vacancy"})
    assert decided.status_code == 409 and decided.json()["referral_status"] == "expired", decided.text


# --- data minimisation -------------------------------------------------------------------------------
async def test_no_childs_name_reaches_any_log_line_or_event(sut):
    name = "Zephyrine Quillborough"
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    published: list[bytes] = []
    for service in ("referral", "matching"):
        transport = sut.runtime(service).transport
        original, original_many = transport.publish, transport.publish_many

        async def tap(topic, key, value, headers=None, _original=original):
            published.append(value)
            return await _original(topic, key, value, headers)

        async def tap_many(messages, _original=original_many):  # the relay publishes in batches
            published.extend(value for _topic, _key, value, _headers in messages)
            return await _original(messages)
        transport.publish, transport.publish_many = tap, tap_many
    previous_level = root.level
    root.setLevel(logging.DEBUG)
    try:
        made = await refer(sut, summary=f"{name} went missing twice this week; {name} is frightened.")
        rid = made["id"]
        assert name in (await sut.client.get(f"/v1/referrals/{rid}", headers=sut.council())).text
        r = await sut.client.patch(f"/v1/referrals/{rid}", json={"summary": f"Update: {name} is safe tonight.",
                                                                 "urgency": "urgent"},
                                   headers={**sut.council(), "If-Match": '"1"'})
        assert r.status_code == 200
        bad = await sut.client.post("/v1/referrals", json={**REFERRAL, "summary": name, "sex": name},
                                    headers=idempotent(sut.council()))
        assert bad.status_code == 422
        await sut.client.post(f"/v1/referrals/{rid}/withdraw", headers=sut.council())
        await wait_for(lambda: len([p for p in published if b"referral.withdrawn" in p]) >= 1)
        # every consumer of the referral's events (matching) has handled all three before the logs are read
        emitted = [e["id"] for e in await events_of(sut) if e["type"] != "referral.status_changed"]  # not matching's
        await wait_for(lambda: handled(sut, "matching", emitted))
    finally:
        root.removeHandler(handler)
        root.setLevel(previous_level)
    logs = stream.getvalue()
    events = [json.dumps(e) for s in ("referral", "matching") for e in await events_of(sut, s)]
    assert len(events) == 4 and logs  # received, updated, withdrawn, status_changed
    for surname_part in ("Zephyrine", "Quillborough"):
        assert surname_part not in logs
        assert not [e for e in events if surname_part in e]
        assert not [p for p in published if surname_part.encode() in p]
    # the social worker's contact stays in the referral service too
    assert not [e for e in events if "sam.patel" in e or "Sam Patel" in e]


async def test_the_demo_seed_refers_a_few_children_once(tmp_path):
    from itp.seed import seed_referrals
    from itp.system import migrate_all

    overrides = dict(data_dir=tmp_path / "data", transport="inprocess")
    await migrate_all(["referral"], **overrides)
    first = await seed_referrals(**overrides)
    assert len(first) == 3
    assert await seed_referrals(**overrides) == []


@embedded
async def test_odd_input_is_a_problem_never_a_crash(sut):
    import base64

    r = await sut.client.post("/v1/referrals", json={**REFERRAL, "summary": "nul \x00 here"},
                              headers=idempotent(sut.council()))
    assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "no_control_characters"
    for forged in (["r", "2026-11-23T09:00:00", "x"], ["r", "2026-11-23T09:00:00+00:00", 7], ["q", "a", "b", "c"],
                   ["r"], {"r": 1}, ["q", True, "2026-11-23T09:00:00+00:00", "x"]):
        cursor = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode()
        for query in ("", "&awaiting=decision"):
            got = await sut.client.get(f"/v1/referrals?cursor={cursor}{query}", headers=sut.hub())
            assert got.status_code == 422, (forged, query, got.text)
    assert (await sut.client.get("/v1/referrals?received_to=9999-12-31", headers=sut.hub())).status_code == 200
    assert (await sut.client.get("/v1/referrals?child_ref=a%00b", headers=sut.hub())).status_code == 422

    made = await refer(sut)
    path = f"/v1/referrals/{made['id']}"
    # a malformed If-Match is 400 if-match-invalid (the toolkit's one rule; it was 412 before)
    for if_match, expected in (('"99999999999999999999"', 412), ("garbage", 400), ('"7", "1"', 200), ("*", 200)):
        r = await sut.client.patch(path, json={"urgency": "urgent" if expected == 200 else "planned",
                                               "summary": if_match},
                                   headers={**sut.council(), "If-Match": if_match})
        assert r.status_code == expected, (if_match, r.text)


def test_itp_referrals_expire_is_a_command_safe_to_run_twice(tmp_path, monkeypatch, capsys):
    from itp.cli import main
    from itp.seed import seed_referrals
    from itp.system import migrate_all

    monkeypatch.setenv("ITP_DATA_DIR", str(tmp_path / "data"))
    asyncio.run(migrate_all(["referral"]))
    seeded = asyncio.run(seed_referrals())
    assert main(["referrals", "expire", "--today", "2099-01-01"]) == 0
    assert sorted(json.loads(capsys.readouterr().out.strip().splitlines()[-1])["expired"]) == sorted(seeded)
    assert main(["referrals", "expire", "--today", "2099-01-01"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == {"expired": []}
