"""Webhooks to councils' systems: the Standard Webhooks signing scheme, the retry schedule and
when an endpoint that keeps failing is disabled. Pure: no I/O.

Signing (https://www.standardwebhooks.com): the secret is `whsec_` + base64 of random bytes; each
attempt carries webhook-id (the delivery id, the same on every retry, so a receiver deduplicates on
it), webhook-timestamp (unix seconds of the attempt) and webhook-signature `v1,<base64 HMAC-SHA256
of "{id}.{timestamp}.{body}">`.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

SECRET_PREFIX = "whsec_"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def new_delivery_id() -> str:
    return "msg_" + secrets.token_hex(12)


def sign(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(secret: str, msg_id: str, timestamp: int, body: str, *also: str) -> dict[str, str]:
    """`also`: secrets still in their grace period after a rotation; each adds a signature (space-separated,
    as the scheme allows), so a receiver still holding the old secret keeps verifying."""
    signatures = " ".join(sign(s, msg_id, timestamp, body) for s in (secret, *also))
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp), "webhook-signature": signatures,
            "content-type": "application/json"}


class InvalidWebhookUrl(ValueError):
    pass


def check_url(url: str, *, allow_http_localhost: bool) -> str:
    """https only, no credentials in the URL, no private or loopback address literals; plain http
    to the local machine only when the setting allows it (tests and the demo)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        raise InvalidWebhookUrl("not a URL") from None
    host = (parts.hostname or "").lower()
    if not host:
        raise InvalidWebhookUrl("the URL has no host")
    if parts.username or parts.password:
        raise InvalidWebhookUrl("the URL must not carry credentials")
    if parts.fragment:
        raise InvalidWebhookUrl("the URL must not have a fragment")
    local = host in LOCAL_HOSTS
    if parts.scheme == "http" and local and allow_http_localhost:
        return url
    if parts.scheme != "https":
        raise InvalidWebhookUrl("the URL must use https")
    if local and not allow_http_localhost:
        raise InvalidWebhookUrl("the URL must not point at this machine")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return url
    if address.is_private or address.is_loopback or address.is_link_local or address.is_reserved:
        if not (local and allow_http_localhost):
            raise InvalidWebhookUrl("the URL must not point at a private address")
    return url


def subscribed(event_types: list[str], event_type: str) -> bool:
    """An endpoint names event types exactly, or a family with `referral.*`, or everything with `*`."""
    for wanted in event_types:
        if wanted == "*" or wanted == event_type:
            return True
        if wanted.endswith(".*") and event_type.startswith(wanted[:-1]):
            return True
    return False


def next_attempt_delay(schedule: list[float], failed_attempts: int) -> float | None:
    """Seconds to wait after the n-th failed attempt (1-based), or None when the schedule is spent
    and the delivery is abandoned."""
    if failed_attempts < 1 or failed_attempts > len(schedule):
        return None
    return float(schedule[failed_attempts - 1])


@dataclass(frozen=True)
class AfterAttempt:
    state: str  # succeeded / failed (a retry is scheduled) / abandoned
    retry_in: float | None  # seconds until the next attempt, when one is scheduled


def after_attempt(schedule: list[float], attempts_before: int, status_code: int | None) -> AfterAttempt:
    """Where a delivery stands after one more attempt: done on a 2xx; otherwise retried on the schedule
    (counting every attempt so far, manual ones too) until the schedule is spent."""
    if succeeded(status_code):
        return AfterAttempt("succeeded", None)
    delay = next_attempt_delay(schedule, attempts_before + 1)
    return AfterAttempt("abandoned", None) if delay is None else AfterAttempt("failed", delay)


@dataclass(frozen=True)
class FailurePolicy:
    max_consecutive_failures: int
    max_failing_for: timedelta

    def should_disable(self, consecutive_failures: int, failing_since: datetime | None, now: datetime) -> bool:
        if consecutive_failures >= self.max_consecutive_failures:
            return True
        return failing_since is not None and now - failing_since >= self.max_failing_for


def succeeded(status_code: int | None) -> bool:
    return status_code is not None and 200 <= status_code < 300
