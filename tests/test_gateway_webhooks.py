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
