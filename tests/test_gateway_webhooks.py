"""Webhooks end to end: a council's endpoint gets its own children's events, signed (verified by
the independent `standardwebhooks` package), retried until it succeeds exactly once, with a delivery
log, redelivery by hand; another council's events and endpoints never reach it."""
from __future__ import annotations

from standardwebhooks import Webhook

from .support import wait_for
from .support.referrals import REFERRAL, idempotent
from .support import Receiver

A, B = "E10000018", "E06000016"
FAST = dict(webhook_allow_http_localhost=True, webhook_retry_schedule=[0.2, 0.2, 0.2, 0.2, 0.2])


async def _register(sut, la: str, url: str, types: list[str]) -> dict:
    r = await sut.client.post("/v1/webhooks", json={"url": url, "event_types": types}, headers=sut.council(la))
    assert r.status_code == 201, r.text
    return r.json()


async def test_a_council_receives_only_its_own_childrens_events_signed_and_retried_until_it_succeeds(make_system):
    sut = await make_system(**FAST)
    async with Receiver(script=[500, 500, 500, 200]) as rx_a, Receiver() as rx_b:
        hook_a = await _register(sut, A, rx_a.url, ["referral.*"])
        hook_b = await _register(sut, B, rx_b.url, ["*"])
        assert hook_a["secret"].startswith("whsec_")

        ref_b = (await sut.client.post("/v1/referrals", json=REFERRAL, headers=idempotent(sut.council(B)))).json()
        ref_a = (await sut.client.post("/v1/referrals", json=REFERRAL, headers=idempotent(sut.council(A)))).json()
        await wait_for(lambda: rx_a.successes() and rx_b.successes(), timeout=30)

        # A: three failures then one success, all the same message (one webhook-id), each validly signed
        assert [r.status for r in rx_a.received] == [500, 500, 500, 200]
        assert len({r.headers["webhook-id"] for r in rx_a.received}) == 1
        for r in rx_a.received:
            event = Webhook(hook_a["secret"]).verify(r.body, r.headers)
            assert event["type"] == "referral.received" and event["la_code"] == A
            assert event["data"]["referral_id"] == ref_a["id"]
        # B: only its own child's event, first time
        assert [r.event["data"]["referral_id"] for r in rx_b.received] == [ref_b["id"]]
        assert all(r.event["la_code"] == A for r in rx_a.received)
        assert not any(b"Sam Patel" in r.body for r in rx_a.received + rx_b.received)  # no names leave in events

        async def logged_success():
            # the receiver has answered 200; the worker records it a moment later
            items = (await sut.client.get(f"/v1/webhooks/{hook_a['id']}/deliveries",
                                          headers=sut.council(A))).json()["items"]
            return items if items and items[0]["state"] == "succeeded" else None
        [delivery] = await wait_for(logged_success)
        assert delivery["attempts"] == 4
        assert [a["status_code"] for a in delivery["log"]] == [500, 500, 500, 200]
        assert delivery["id"] == rx_a.received[0].headers["webhook-id"]

        # redelivery by hand: the same webhook-id again, marked manual in the log
        again = await sut.client.post(f"/v1/webhooks/{hook_a['id']}/deliveries/{delivery['id']}/redeliver",
                                      headers=sut.council(A))
        assert again.status_code == 202, again.text
        await wait_for(lambda: len(rx_a.received) == 5)
        assert rx_a.received[4].headers["webhook-id"] == delivery["id"]

        async def manual_logged():
            items = (await sut.client.get(f"/v1/webhooks/{hook_a['id']}/deliveries",
                                          headers=sut.council(A))).json()["items"]
            return items[0]["log"][-1]["manual"] and items[0]["state"] == "succeeded"
        await wait_for(manual_logged)

        # tenancy: B cannot see, read, manage or redeliver A's endpoint
        listed = (await sut.client.get("/v1/webhooks", headers=sut.council(B))).json()["items"]
        assert [h["id"] for h in listed] == [hook_b["id"]]
        for method, path in (("GET", f"/v1/webhooks/{hook_a['id']}"),
                             ("GET", f"/v1/webhooks/{hook_a['id']}/deliveries"),
                             ("POST", f"/v1/webhooks/{hook_a['id']}/enable"),
                             ("POST", f"/v1/webhooks/{hook_a['id']}/deliveries/{delivery['id']}/redeliver"),
                             ("DELETE", f"/v1/webhooks/{hook_a['id']}")):
            r = await sut.client.request(method, path, headers=sut.council(B))
            assert r.status_code == 404, (method, path, r.status_code)
        assert len(rx_a.received) == 5
        hub = (await sut.client.get("/v1/webhooks", headers=sut.hub())).json()["items"]
        assert {h["id"] for h in hub} == {hook_a["id"], hook_b["id"]}
        assert all("secret" not in h for h in hub)


async def test_endpoint_changes_take_if_match_as_every_route_does_and_problems_carry_type_uris(sut):
    """The webhooks use the one write toolkit: If-Match with `*`, a list or weak tags; 428 when PATCH has
    none; 412 stale-etag with the current ETag; 422s naming the field and rule; bounded collections."""
    base = "https://itp.example.org/problems/"
    hook = await _register(sut, A, "https://case-system.example.gov.uk/itp", ["referral.*"])
    url = f"/v1/webhooks/{hook['id']}"
    change = {"description": "case system"}

    missing = await sut.client.patch(url, json=change, headers=sut.council(A))
    assert missing.status_code == 428 and missing.json()["type"] == base + "if-match-required"
    stale = await sut.client.patch(url, json=change, headers={"If-Match": '"7"', **sut.council(A)})
    assert stale.status_code == 412 and stale.json()["type"] == base + "stale-etag"
    assert stale.headers["etag"] == stale.json()["current_etag"] == '"1"'
    malformed = await sut.client.patch(url, json=change, headers={"If-Match": "1", **sut.council(A)})
    assert malformed.status_code == 400 and malformed.json()["type"] == base + "if-match-invalid"
    listed = await sut.client.patch(url, json=change, headers={"If-Match": '"5", W/"1"', **sut.council(A)})
    assert listed.status_code == 200, listed.text
    assert listed.headers["etag"] == '"2"' and listed.json()["description"] == "case system"
    weak = await sut.client.patch(url, json={"event_types": ["*"]}, headers={"If-Match": 'W/"2"', **sut.council(A)})
    assert weak.status_code == 200 and weak.headers["etag"] == '"3"'
    # the other changes take an optional If-Match, checked when sent
    assert (await sut.client.post(f"{url}/rotate-secret", headers={"If-Match": '"1"', **sut.council(A)})
            ).status_code == 412
    rotated = await sut.client.post(f"{url}/rotate-secret", headers={"If-Match": '"3"', **sut.council(A)})
    assert rotated.status_code == 200 and rotated.headers["etag"] == '"4"'
    assert (await sut.client.delete(url, headers={"If-Match": '"3"', **sut.council(A)})).status_code == 412

    internal = await sut.client.post("/v1/webhooks", json={"url": "https://127.1/h", "event_types": ["*"]},
                                     headers=sut.council(A))
    assert internal.status_code == 422 and internal.json()["type"] == base + "validation-error"
    assert internal.json()["errors"] == [{"field": "body.url", "rule": "webhook_url_public_address",
                                          "message": internal.json()["errors"][0]["message"]}]
    too_many = await sut.client.post("/v1/webhooks", json={"url": "https://x.example.gov.uk/h",
                                                           "event_types": ["*"] * 51}, headers=sut.council(A))
    assert too_many.status_code == 422 and too_many.json()["errors"][0]["field"] == "body.event_types"
    too_long = await sut.client.post("/v1/webhooks", json={"url": "https://x.example.gov.uk/h",
                                                           "event_types": ["referral." + "x" * 200]},
                                     headers=sut.council(A))
    assert too_long.status_code == 422 and too_long.json()["errors"][0]["field"].startswith("body.event_types")
    taken = await sut.client.post("/v1/webhooks", json={"url": "https://case-system.example.gov.uk/itp",
                                                        "event_types": ["placement.*"]}, headers=sut.council(A))
    assert taken.status_code == 409 and taken.json()["type"] == base + "conflict"
    assert taken.json()["endpoint_id"] == hook["id"]
    gone = await sut.client.get("/v1/webhooks/" + "0" * 8 + "-0000-4000-8000-" + "0" * 12, headers=sut.council(A))
    assert gone.status_code == 404 and gone.json()["type"] == base + "not-found"
    assert (await sut.client.delete(url, headers={"If-Match": "*", **sut.council(A)})).status_code == 204
