"""The gateway as the council door, alone in front of a stub service: security headers, CORS, the body
size limit, per-client rate limits, the access log, and webhook fan-out, failure and disabling."""
from __future__ import annotations

import uuid

from sqlalchemy import select

from libs.common.events.envelope import EventEnvelope
from services.gateway import audit
from services.gateway.tables import access_log, webhook_deliveries
from tests.support import wait_for
from tests.support import Receiver

from .door import CHILD, door

A, B = "E10000018", "E06000016"


async def test_every_answer_carries_the_security_headers_and_api_answers_are_never_cached(tmp_path):
    async with door(tmp_path) as d:
        r = await d.client.get(f"/v1/referrals/{CHILD}", headers=d.headers())
        assert r.status_code == 200
        assert r.headers["strict-transport-security"].startswith("max-age=")
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert r.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert "script-src" not in r.headers["content-security-policy"]
        assert r.headers["x-request-id"]
        docs = await d.client.get("/docs")
        assert docs.status_code == 200
        assert "https://cdn.jsdelivr.net" in docs.headers["content-security-policy"]
        assert docs.headers["x-frame-options"] == "DENY"


async def test_the_dashboards_origin_may_call_the_api_from_a_browser_and_no_other(tmp_path):
    async with door(tmp_path, gateway_cors_origins=["https://dashboard.itp.example"]) as d:
        preflight = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}
        ok = await d.client.options("/v1/referrals", headers={"Origin": "https://dashboard.itp.example", **preflight})
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == "https://dashboard.itp.example"
        bad = await d.client.options("/v1/referrals", headers={"Origin": "https://evil.example", **preflight})
        assert "access-control-allow-origin" not in bad.headers
        simple = await d.client.get(f"/v1/referrals/{CHILD}",
                                    headers={"Origin": "https://dashboard.itp.example", **d.headers()})
        assert simple.headers["access-control-allow-origin"] == "https://dashboard.itp.example"
        assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()


async def test_a_body_over_the_limit_is_refused_with_413_whether_declared_or_streamed(tmp_path):
    async with door(tmp_path, gateway_max_body_bytes=1000) as d:
        fits = await d.client.post("/v1/referrals", content=b"x" * 1000, headers=d.headers())
        assert fits.status_code == 200 and fits.json() == {"received_bytes": 1000}
        declared = await d.client.post("/v1/referrals", content=b"x" * 1001, headers=d.headers())
        assert declared.status_code == 413
        assert declared.headers["content-type"] == "application/problem+json"
        assert declared.json()["limit_bytes"] == 1000

        async def chunks():
            for _ in range(5):
                yield b"y" * 400
        streamed = await d.client.post("/v1/referrals", content=chunks(), headers=d.headers())
        assert streamed.status_code == 413
        assert streamed.json()["title"] == "Content Too Large"


async def test_a_client_over_its_rate_gets_429_with_retry_after_and_other_clients_do_not(tmp_path):
    async with door(tmp_path, gateway_rate_limit_per_second=0.5, gateway_rate_limit_burst=3) as d:
        a = d.headers("council-a")
        statuses = [(await d.client.get(f"/v1/referrals/{CHILD}", headers=a)).status_code for _ in range(3)]
        assert statuses == [200, 200, 200]
        refused = await d.client.get(f"/v1/referrals/{CHILD}", headers=a)
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "2"
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["x-request-id"] and refused.headers["x-content-type-options"] == "nosniff"
        # a new token for the same client is the same client
        assert (await d.client.get(f"/v1/referrals/{CHILD}", headers=d.headers("council-a"))).status_code == 429
        assert (await d.client.get(f"/v1/referrals/{CHILD}", headers=d.headers("council-b", B))).status_code == 200
        assert (await d.client.get("/health/live")).status_code == 200
        anonymous = [(await d.client.get("/v1/referrals")).status_code for _ in range(4)]
        assert anonymous[-1] == 429  # per IP without a token


async def _log(d) -> list[dict]:
    async with d.runtime.db.session() as session:
        return [dict(r) for r in (await session.execute(select(access_log).order_by(access_log.c.id))).mappings()]


async def test_each_child_record_a_service_names_is_logged_once_and_the_header_never_leaves(tmp_path):
    async with door(tmp_path) as d:
        r = await d.client.get(f"/v1/referrals/{CHILD}", headers={"X-Request-ID": "rq-1", **d.headers()})
        assert r.status_code == 200 and "x-itp-child-records" not in r.headers
        other = str(uuid.uuid4())
        assert (await d.client.get(f"/v1/referrals/{other}", headers=d.headers("council-b", B))).status_code == 404
        assert (await d.client.get(f"/v1/referrals/{other}", headers=d.headers("hub-x", None, "hub", ()))).status_code == 404
        assert (await d.client.get("/v1/referrals/not-an-id", headers=d.headers())).status_code == 404
        rows = await _log(d)
        assert [(x["client_id"], x["child_record_id"], x["action"], x["status"]) for x in rows] == [
            ("council-a", CHILD, "read", 200), ("council-b", other, "denied", 404)]
        assert rows[0]["request_id"] == "rq-1" and rows[0]["route"] == "/v1/referrals/{id}"
        assert rows[0]["la_code"] == A and rows[0]["at"].tzinfo is not None

        hub = d.headers("hub-dpo", None, "hub", ())
        at = rows[1]["at"]
        window = await d.client.get("/v1/audit/access", headers=hub, params={"since": at.isoformat()})
        assert [x["action"] for x in window.json()["items"]] == ["denied"]
        before = await d.client.get("/v1/audit/access", headers=hub, params={"until": at.isoformat()})
        assert [x["action"] for x in before.json()["items"]] == ["read"]
        naive = await d.client.get("/v1/audit/access", headers=hub, params={"since": "2026-11-23T09:00:00"})
        assert naive.status_code == 422 and naive.json()["errors"][0]["field"] == "query.since"


async def test_no_child_record_leaves_the_door_unaudited(tmp_path, monkeypatch):
    async def broken(connection, rows):
        raise RuntimeError("database down")
    async with door(tmp_path) as d:
        monkeypatch.setattr(audit, "insert_access", broken)  # what the access log's writer commits with
        r = await d.client.get(f"/v1/referrals/{CHILD}", headers=d.headers())
        assert r.status_code == 503
        assert CHILD not in r.text
        assert r.headers["content-type"] == "application/problem+json"


# --- webhooks ------------------------------------------------------------------------------------
def _event(la_code: str | None, event_type: str = "referral.withdrawn") -> EventEnvelope:
    rid = str(uuid.uuid4())
    return EventEnvelope(type=event_type, producer="referral", subject_id=rid, la_code=la_code,
                         payload={"referral_id": rid, "reason": None, "withdrawn_at": "2026-11-23T09:00:00Z"})


async def _deliveries(d) -> list[dict]:
    async with d.runtime.db.session() as session:
        return [dict(r) for r in (await session.execute(select(webhook_deliveries))).mappings()]


async def test_registering_an_endpoint_checks_the_url_and_the_event_types_and_is_safe_to_retry(tmp_path):
    async with door(tmp_path) as d:
        body = {"url": "https://case.example.gov.uk/hooks", "event_types": ["referral.*"]}
        first = await d.client.post("/v1/webhooks", json=body, headers=d.headers())
        assert first.status_code == 201 and first.headers["location"] == f"/v1/webhooks/{first.json()['id']}"
        again = await d.client.post("/v1/webhooks", json=body, headers=d.headers())
        assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
        clash = await d.client.post("/v1/webhooks", json={**body, "event_types": ["*"]}, headers=d.headers())
        assert clash.status_code == 409 and clash.json()["endpoint_id"] == first.json()["id"]
        http = await d.client.post("/v1/webhooks", json={**body, "url": "http://case.example.gov.uk/h"},
                                   headers=d.headers())
        assert http.status_code == 422 and http.json()["errors"][0]["field"] == "body.url"
        unknown = await d.client.post("/v1/webhooks", json={**body, "event_types": ["child.named"]},
                                      headers=d.headers())
        assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"].startswith("body.event_types")
        hub = await d.client.post("/v1/webhooks", json=body, headers=d.headers("hub-x", None, "hub", ()))
        assert hub.status_code == 403
        no_scope = await d.client.post("/v1/webhooks", json=body, headers=d.headers(scopes=("referrals:read",)))
        assert no_scope.status_code == 403
        url = f"/v1/webhooks/{first.json()['id']}"
        read = await d.client.get(url, headers=d.headers())
        assert read.headers["etag"] == '"1"'
        change = {"event_types": ["referral.received", "placement.*"], "description": "case system"}
        assert (await d.client.patch(url, json=change, headers=d.headers())).status_code == 428
        stale = await d.client.patch(url, json=change, headers={"If-Match": '"7"', **d.headers()})
        assert stale.status_code == 412 and stale.json()["current_etag"] == '"1"'
        changed = await d.client.patch(url, json=change, headers={"If-Match": '"1"', **d.headers()})
        assert changed.status_code == 200 and changed.headers["etag"] == '"2"'
        assert changed.json()["event_types"] == ["referral.received", "placement.*"]
        assert changed.json()["url"] == body["url"] and changed.json()["description"] == "case system"
        bad = await d.client.patch(url, json={"url": "ftp://x"}, headers={"If-Match": '"2"', **d.headers()})
        assert bad.status_code == 422
        other = await d.client.patch(url, json=change, headers={"If-Match": '"2"', **d.headers("council-b", B)})
        assert other.status_code == 404
        gone = await d.client.delete(f"/v1/webhooks/{first.json()['id']}", headers=d.headers())
        assert gone.status_code == 204
        assert (await d.client.get(f"/v1/webhooks/{first.json()['id']}", headers=d.headers())).status_code == 404


async def test_fan_out_goes_only_to_the_events_own_council_once_per_event(tmp_path):
    async with door(tmp_path, webhook_worker_enabled=False) as d:
        body = {"url": "https://a.example.gov.uk/hooks", "event_types": ["referral.*"]}
        hook_a = (await d.client.post("/v1/webhooks", json=body, headers=d.headers())).json()
        await d.client.post("/v1/webhooks", json={**body, "url": "https://b.example.gov.uk/hooks"},
                            headers=d.headers("council-b", B))
        await d.client.post("/v1/webhooks", json={"url": "https://a.example.gov.uk/placements",
                                                  "event_types": ["placement.started"]}, headers=d.headers())
        event = _event(A)
        consumer = d.runtime.consumer
        assert (await consumer.handle(event)).handled
        assert (await consumer.handle(event)).duplicate
        await consumer.handle(_event(None))
        rows = await _deliveries(d)
        assert [(r["endpoint_id"], r["event_id"], r["la_code"]) for r in rows] == [(hook_a["id"], str(event.id), A)]


async def test_an_endpoint_that_keeps_failing_is_disabled_with_a_notice_and_can_be_enabled_again(tmp_path):
    async with door(tmp_path, webhook_allow_http_localhost=True, webhook_disable_after_failures=3,
                    webhook_retry_schedule=[0.05] * 10) as d, Receiver(script=[500]) as rx, Receiver() as ops:
        hook = (await d.client.post("/v1/webhooks", json={"url": rx.url, "event_types": ["*"]},
                                    headers=d.headers())).json()
        await d.client.post("/v1/webhooks", json={"url": ops.url, "event_types": ["webhook_endpoint.disabled"]},
                            headers=d.headers())
        await d.runtime.consumer.handle(_event(A))

        async def disabled():
            r = (await d.client.get(f"/v1/webhooks/{hook['id']}", headers=d.headers())).json()
            return r if not r["active"] else None
        endpoint = await wait_for(disabled)
        assert "3 consecutive failed deliveries" in endpoint["disabled_reason"]
        assert endpoint["disabled_at"] and endpoint["consecutive_failures"] == 3
        assert len(rx.received) == 3
        # the notice: an event (ids and counts only), which the council's other endpoints may subscribe to
        [notice] = (await wait_for(lambda: ops.successes())) and ops.received
        assert notice.event["type"] == "webhook_endpoint.disabled" and notice.event["la_code"] == A
        assert notice.event["data"]["endpoint_id"] == hook["id"] and notice.event["data"]["consecutive_failures"] == 3
        [delivery] = (await d.client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=d.headers())).json()["items"]
        assert delivery["state"] == "failed" and [a["status_code"] for a in delivery["log"]] == [500, 500, 500]
        redeliver = await d.client.post(f"/v1/webhooks/{hook['id']}/deliveries/{delivery['id']}/redeliver",
                                        headers=d.headers())
        assert redeliver.status_code == 409

        rx.script = [200]
        enabled = await d.client.post(f"/v1/webhooks/{hook['id']}/enable", headers=d.headers())
        assert enabled.status_code == 200 and enabled.json()["active"] and enabled.json()["disabled_reason"] is None

        async def delivered():
            items = (await d.client.get(f"/v1/webhooks/{hook['id']}/deliveries?state=succeeded",
                                        headers=d.headers())).json()["items"]
            return items
        [done] = await wait_for(delivered)
        assert done["attempts"] == 4 and len(rx.successes()) == 1


async def test_a_delivery_whose_schedule_is_spent_is_abandoned(tmp_path):
    async with door(tmp_path, webhook_allow_http_localhost=True, webhook_retry_schedule=[0.05, 0.05]) as d, \
            Receiver(script=[503]) as rx:
        hook = (await d.client.post("/v1/webhooks", json={"url": rx.url, "event_types": ["referral.withdrawn"]},
                                    headers=d.headers())).json()
        await d.runtime.consumer.handle(_event(A))

        async def abandoned():
            items = (await d.client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=d.headers())).json()["items"]
            return items and items[0]["state"] == "abandoned" and items[0]
        delivery = await wait_for(abandoned)
        assert delivery["attempts"] == 3 and delivery["last_status_code"] == 503 and delivery["next_attempt_at"] is None
        assert len(rx.received) == 3


async def test_after_a_secret_rotation_deliveries_verify_with_the_new_and_for_a_while_the_old_secret(tmp_path):
    from standardwebhooks import Webhook

    async with door(tmp_path, webhook_allow_http_localhost=True) as d, Receiver() as rx:
        hook = (await d.client.post("/v1/webhooks", json={"url": rx.url, "event_types": ["*"]},
                                    headers=d.headers())).json()
        rotated = await d.client.post(f"/v1/webhooks/{hook['id']}/rotate-secret", headers=d.headers())
        assert rotated.status_code == 200 and rotated.json()["secret"] != hook["secret"]
        assert (await d.client.post(f"/v1/webhooks/{hook['id']}/rotate-secret",
                                    headers=d.headers("council-b", B))).status_code == 404
        await d.runtime.consumer.handle(_event(A))
        [got] = await wait_for(lambda: rx.received)
        for secret in (hook["secret"], rotated.json()["secret"]):
            assert Webhook(secret).verify(got.body, got.headers)["la_code"] == A
