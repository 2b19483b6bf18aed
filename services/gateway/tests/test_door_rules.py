"""The door's pure rules: the access log's naming, the token bucket, webhook signing and retries."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st
from standardwebhooks import Webhook

from libs.common.settings import Settings
from services.gateway.domain.audit import (child_records, decode_cursor, denied_child_record, encode_cursor,
                                           route_template, verb)
from services.gateway.domain.ratelimit import RateLimiter, retry_after_header
from services.gateway.domain.webhooks import (FailurePolicy, InvalidWebhookUrl, after_attempt, check_url, new_secret,
                                              next_attempt_delay, signed_headers, subscribed)

CHILD = "3f2c8a64-1f0e-4e36-9a51-7d1b2f3c4d5e"


# --- the access log -------------------------------------------------------------------------------
def test_a_route_is_named_by_its_template_so_ids_never_sit_in_the_action():
    assert route_template(f"/v1/referrals/{CHILD}/matches") == "/v1/referrals/{id}/matches"
    assert route_template("/v1/referrals") == "/v1/referrals"
    assert route_template("/v1/invoices/42") == "/v1/invoices/{id}"


def test_what_a_request_did_is_read_create_update_delete_or_denied():
    assert [verb(m, 200) for m in ("GET", "POST", "PUT", "PATCH", "DELETE")] == [
        "read", "create", "update", "update", "delete"]
    assert verb("GET", 404) == "denied" and verb("PATCH", 403) == "denied"


def test_the_child_records_header_is_read_once_per_record_in_order():
    assert child_records(f"{CHILD}, b,{CHILD},,a") == [CHILD, "b", "a"]
    assert child_records(None) == [] and child_records("") == []


def test_a_councils_404_on_a_child_record_path_names_the_record_it_asked_for():
    assert denied_child_record(f"/v1/referrals/{CHILD.upper()}") == CHILD
    assert denied_child_record(f"/v1/referrals/{CHILD}/withdraw") == CHILD
    assert denied_child_record("/v1/referrals/not-an-id") is None
    assert denied_child_record(f"/v1/homes/{CHILD}") is None


@given(st.integers(min_value=0, max_value=2**62))
def test_a_cursor_gives_back_the_position_it_was_made_from(position):
    assert decode_cursor(encode_cursor(position)) == position


@pytest.mark.parametrize("junk", ["", "nonsense", "YTEyYQ", "Yg"])
def test_anything_but_a_cursor_this_api_made_is_refused(junk):
    with pytest.raises(ValueError):
        decode_cursor(junk)


# --- rate limits ----------------------------------------------------------------------------------
@given(rate=st.floats(min_value=0.5, max_value=100), burst=st.integers(min_value=1, max_value=50),
       gaps=st.lists(st.floats(min_value=0, max_value=0.5), min_size=1, max_size=200))
def test_a_client_never_gets_more_than_its_burst_plus_the_rate_over_any_run(rate, burst, gaps):
    limiter = RateLimiter(rate, burst)
    now, allowed = 0.0, 0
    for gap in gaps:
        now += gap
        if limiter.take("client", now) == 0:
            allowed += 1
    assert allowed <= burst + rate * now + 1e-6


def test_a_refused_client_is_told_how_long_to_wait_and_other_clients_are_untouched():
    limiter = RateLimiter(rate=2, burst=3)
    assert [limiter.take("a", 0.0) for _ in range(3)] == [0, 0, 0]
    wait = limiter.take("a", 0.0)
    assert wait == pytest.approx(0.5)
    assert retry_after_header(wait) == "1" and retry_after_header(0.0001) == "1" and retry_after_header(2.1) == "3"
    assert limiter.take("b", 0.0) == 0
    assert limiter.take("a", 0.5) == 0  # refilled one token


def test_the_limiter_forgets_idle_clients_rather_than_grow_without_bound():
    limiter = RateLimiter(rate=1, burst=1, max_clients=10)
    for i in range(100):
        limiter.take(f"c{i}", float(i))
    assert len(limiter._buckets) <= 10


# --- webhooks -------------------------------------------------------------------------------------
@given(msg_id=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=40),
       data=st.dictionaries(st.text(max_size=10), st.integers() | st.text(max_size=20), max_size=5))
def test_our_signatures_verify_with_the_reference_standard_webhooks_library(msg_id, data):
    secret = new_secret()
    body = json.dumps(data)
    now = int(datetime.now(timezone.utc).timestamp())
    headers = signed_headers(secret, msg_id, now, body)
    assert Webhook(secret).verify(body, headers) == data
    tampered = {**headers, "webhook-signature": signed_headers(new_secret(), msg_id, now, body)["webhook-signature"]}
    with pytest.raises(Exception):
        Webhook(secret).verify(body, tampered)


def test_the_default_retry_schedule_keeps_trying_for_more_than_a_day_then_gives_up():
    schedule = Settings().webhook_retry_schedule
    assert sum(schedule) >= 24 * 3600
    assert schedule == sorted(schedule)
    assert [next_attempt_delay(schedule, n) for n in (1, 2)] == [5, 300]
    assert next_attempt_delay(schedule, len(schedule)) == schedule[-1]
    assert next_attempt_delay(schedule, len(schedule) + 1) is None


@pytest.mark.parametrize("url", ["http://example.org/h", "ftp://example.org", "https://user:pw@example.org/h",
                                 "https://10.0.0.5/h", "https://169.254.169.254/latest", "https://127.0.0.1/h",
                                 "https:///nohost", "https://example.org/h#frag", "not a url"])
def test_webhook_urls_must_be_https_to_a_public_host(url):
    with pytest.raises(InvalidWebhookUrl):
        check_url(url, allow_http_localhost=False)


def test_plain_http_to_this_machine_only_when_the_setting_allows_it():
    assert check_url("http://127.0.0.1:8080/h", allow_http_localhost=True)
    assert check_url("https://case-system.example.gov.uk/itp", allow_http_localhost=False)
    with pytest.raises(InvalidWebhookUrl):
        check_url("http://127.0.0.1:8080/h", allow_http_localhost=False)
    with pytest.raises(InvalidWebhookUrl):
        check_url("http://10.1.2.3/h", allow_http_localhost=True)


def test_an_endpoint_subscribes_to_types_families_or_everything():
    assert subscribed(["referral.received"], "referral.received")
    assert subscribed(["referral.*"], "referral.withdrawn") and not subscribed(["referral.*"], "placement.started")
    assert subscribed(["*"], "invoice.issued")
    assert not subscribed(["admission.accepted"], "admission.declined")
    # a subscription made before a type was renamed keeps receiving it under its new name
    assert subscribed(["match.assessed"], "impact_risk.assessed", {"match.assessed": "impact_risk.assessed"})
    assert not subscribed(["match.assessed"], "impact_risk.assessed")


def test_an_endpoint_is_disabled_after_too_many_failures_in_a_row_or_too_long_failing():
    policy = FailurePolicy(5, timedelta(days=5))
    now = datetime(2026, 11, 23, tzinfo=timezone.utc)
    assert not policy.should_disable(4, now - timedelta(days=1), now)
    assert policy.should_disable(5, now, now)
    assert policy.should_disable(1, now - timedelta(days=5), now)
    assert not policy.should_disable(0, None, now)


@given(schedule=st.lists(st.floats(min_value=0.01, max_value=1e5), min_size=0, max_size=10),
       statuses=st.lists(st.sampled_from([None, 200, 204, 301, 404, 410, 500, 503]), min_size=1, max_size=30))
def test_a_delivery_ends_at_its_first_success_or_after_the_schedule_is_spent_and_never_otherwise(schedule, statuses):
    attempts, state, waited = 0, "pending", 0.0
    for status in statuses:
        if state in ("succeeded", "abandoned"):
            break
        outcome = after_attempt(schedule, attempts, status)
        attempts += 1
        state = outcome.state
        if state == "failed":
            waited += outcome.retry_in
    if state == "succeeded":
        assert statuses[attempts - 1] in (200, 204) and attempts <= len(schedule) + 1
    elif state == "abandoned":
        assert attempts == len(schedule) + 1 and waited == pytest.approx(sum(schedule))
        assert not any(s in (200, 204) for s in statuses[:attempts])
    else:
        assert state == "failed" and attempts == len(statuses) <= len(schedule)


def test_shared_buckets_hold_one_limit_across_replicas_within_the_documented_excess():
    """Two replicas spend from one store-held bucket (the database's rows, here a dict applying the same
    arithmetic as repository.spend_from_buckets), reporting every 0.1 s, while a client floods both at
    500/s each for 10 s: the admitted total stays within rate x time + burst + the excess of about two sync
    periods of the other replica's admissions."""
    from services.gateway.domain.ratelimit import SharedBuckets

    rate, burst, period = 20.0, 40, 0.1
    store: dict[str, tuple[float, float]] = {}

    def spend(spent: dict[str, int], now: float) -> dict[str, float]:
        out = {}
        for key, n in spent.items():
            tokens, updated = store.get(key, (float(burst), now))
            tokens = min(float(burst), tokens + max(0.0, now - updated) * rate) - n
            store[key] = (tokens, max(updated, now))
            out[key] = tokens
        return out

    replicas = [SharedBuckets(rate, burst) for _ in range(2)]
    admitted, now, step = 0, 0.0, 0.002  # each replica gets one request every 2 ms
    next_sync = period
    for r in replicas:
        r.learn(spend({"client:c": 0}, now), now)  # what a replica does the first time it sees a client
    while now < 10.0:
        for r in replicas:
            admitted += r.take("client:c", now) == 0
        now += step
        if now >= next_sync:
            for r in replicas:
                r.learn(spend(r.report(now), now), now)
            next_sync += period
    excess = 2 * period * 500  # the other replica's admissions in two sync periods
    assert admitted <= rate * 10.0 + burst + excess
    assert admitted >= rate * 10.0  # and the limit is not stricter than promised
    assert store["client:c"][0] <= 1 + 1e-6  # the bucket is spent (in debt, if anything) after the flood
