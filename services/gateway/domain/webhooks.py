"""Webhooks to councils' systems: the Standard Webhooks signing scheme, the retry schedule and
when an endpoint that keeps failing is disabled. Pure: no I/O.

Signing (https://www.standardwebhooks.com): the secret is `whsec_` + base64 of random bytes; each
attempt carries webhook-id (the delivery id, the same on every retry, so a receiver deduplicates on
it), webhook-timestamp (unix seconds of the attempt) and webhook-signature `v1,<base64 HMAC-SHA256
of "{id}.{timestamp}.{body}">`.

Where a delivery may go (server-side request forgery): only to a public address. A URL is checked when it
is registered (its host parsed the way a resolver parses it, so `127.1`, `2130706433`, `0x7f000001`,
`0177.0.0.1` and `[::ffff:127.0.0.1]` are all the loopback address they spell; names known to be internal
are refused) and again at every delivery, where the name is resolved and EVERY address it resolves to must
be public (`address_refusal`); the worker then connects to the address it checked, not to the name again.
What the council reads about a failed delivery is a code (`DeliveryError`), never the exception text.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

SECRET_PREFIX = "whsec_"


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


# --- where a delivery may go ----------------------------------------------------------------------
class InvalidWebhookUrl(ValueError):
    """A URL a delivery must not go to; `rule` names the rule it broke (for the 422's errors[].rule)."""

    def __init__(self, message: str, rule: str = "webhook_url"):
        super().__init__(message)
        self.rule = rule

    @property
    def about_the_address(self) -> bool:
        return self.rule in (PUBLIC_ADDRESS, INTERNAL_NAME, VALID_HOST)


HTTPS = "webhook_url_https"
NO_CREDENTIALS = "webhook_url_credentials"
NO_FRAGMENT = "webhook_url_fragment"
VALID_HOST = "webhook_url_host"
PUBLIC_ADDRESS = "webhook_url_public_address"
INTERNAL_NAME = "webhook_url_internal_name"

# names that are this machine, a cluster's or a cloud's internal services, whatever DNS says about them
INTERNAL_NAMES = frozenset({"localhost", "metadata", "metadata.goog", "metadata.google.internal", "instance-data",
                            "kubernetes", "kubernetes.default"})
INTERNAL_SUFFIXES = (".localhost", ".internal", ".local", ".localdomain", ".home.arpa", ".arpa", ".intranet",
                     ".corp", ".lan", ".svc", ".goog",
                     # public names that resolve to the loopback address by design
                     ".localtest.me", ".lvh.me", ".vcap.me", ".lacolhost.com")
# plain http to this machine, only when settings.webhook_allow_http_localhost (tests and the demo)
LOOPBACK_NAMES = frozenset({"localhost"})

_NUMBER = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")
_DASHED_V4 = re.compile(r"^(\d{1,3})-(\d{1,3})-(\d{1,3})-(\d{1,3})$")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def normalise_host(host: str) -> str:
    """The host as a resolver sees it: lower case, without a trailing dot, IDNA (so full-width letters and
    digits become the ASCII they stand for). An IPv6 literal keeps its form. Raises InvalidWebhookUrl."""
    host = host.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:
        return host
    host = host.rstrip(".")
    if not host:
        raise InvalidWebhookUrl("the URL has no host", VALID_HOST)
    try:
        return host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise InvalidWebhookUrl("the host is not a valid host name", VALID_HOST) from None


def legacy_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address a host spells the way inet_aton (and so getaddrinfo) reads it: one to four parts,
    each decimal, octal (leading 0) or hex (0x), the last filling the remaining bytes: `127.1`,
    `2130706433`, `0x7f000001` and `0177.0.0.1` are all 127.0.0.1. None when the host is a name (its last
    label is not a number); InvalidWebhookUrl when it looks like an address but is not one."""
    labels = host.split(".")
    if not _NUMBER.match(labels[-1]):
        return None
    if len(labels) > 4:
        raise InvalidWebhookUrl("the host is neither a name nor an address", VALID_HOST)
    values = []
    for label in labels:
        if not _NUMBER.match(label):
            raise InvalidWebhookUrl("the host is neither a name nor an address", VALID_HOST)
        if label.startswith("0x"):
            values.append(int(label[2:] or "0", 16))
        elif len(label) > 1 and label.startswith("0"):
            if set(label) - set("01234567"):
                raise InvalidWebhookUrl("the host is neither a name nor an address", VALID_HOST)
            values.append(int(label, 8))
        else:
            values.append(int(label))
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (4 - len(head)):
        raise InvalidWebhookUrl("the host is neither a name nor an address", VALID_HOST)
    number = last
    for i, v in enumerate(head):
        number += v << (8 * (3 - i))
    return ipaddress.IPv4Address(number)


def host_address(host: str) -> Address | None:
    """The address a (normalised) host is, or None when it is a name to resolve."""
    if ":" in host:
        if "%" in host:  # a zone id names an interface of this machine
            raise InvalidWebhookUrl("the URL must not name a network interface", PUBLIC_ADDRESS)
        try:
            return ipaddress.IPv6Address(host)
        except ValueError:
            raise InvalidWebhookUrl("the host is neither a name nor an address", VALID_HOST) from None
    return legacy_ipv4(host)


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, 6to4, NAT64), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or address in _NAT64_LOCAL:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if int(address) >> 32 == 0 and int(address) > 1:  # ::a.b.c.d, the deprecated IPv4-compatible form
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_refusal(address: Address | str, *, loopback_ok: bool = False) -> str | None:
    """Why a delivery must not go to this address (None when it may): everything that is not a public
    unicast address, and an IPv6 address that carries a non-public IPv4 one. `loopback_ok`: the test-only
    allowance for http://127.0.0.1 (loopback only, never private or link-local)."""
    if isinstance(address, str):
        try:
            address = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return "not an address"
    if loopback_ok and address.is_loopback:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None:
            reason = address_refusal(inner, loopback_ok=False)
            if reason:
                return f"{reason} (inside an IPv6 address)"
    for test, reason in ((address.is_loopback, "loopback"), (address.is_link_local, "link-local"),
                         (address.is_multicast, "multicast"), (address.is_unspecified, "unspecified"),
                         (address.is_reserved, "reserved"), (address.is_private, "private"),
                         (address.version == 4 and address in _CGNAT, "shared (CGNAT)"),
                         (not address.is_global, "not public")):
        if test:
            return reason
    return None


def _internal_name(host: str) -> bool:
    if host in INTERNAL_NAMES or host.endswith(INTERNAL_SUFFIXES) or "." not in host:
        return True
    labels = host.split(".")
    # wildcard DNS names that spell an address (169.254.169.254.nip.io, 10-0-0-1.sslip.io)
    spelled = []
    if len(labels) > 4 and all(label.isdigit() for label in labels[:4]):
        spelled.append(".".join(labels[:4]))
    spelled += [".".join(m.groups()) for m in map(_DASHED_V4.match, labels) if m]
    for text in spelled:
        try:
            if address_refusal(ipaddress.IPv4Address(text)):
                return True
        except ValueError:
            continue
    return False


@dataclass(frozen=True)
class Target:
    """Where a URL points: its normalised host, the address when the host is one, and whether the test-only
    allowance lets it reach the loopback address."""
    scheme: str
    host: str
    address: Address | None
    loopback_ok: bool


def check_host(host: str, scheme: str, *, allow_http_localhost: bool) -> Target:
    """The host rules, applied at registration and again at delivery to the host the HTTP client parsed."""
    host = normalise_host(host)
    address = host_address(host)
    loopback = host in LOOPBACK_NAMES or (address is not None and address.is_loopback)
    local = allow_http_localhost and loopback
    # a receiver on this machine is refused unless the setting allows it: say which setting
    hint = ("; a receiver on this machine (tests and demos) needs the gateway setting "
            "ITP_WEBHOOK_ALLOW_HTTP_LOCALHOST=true" if loopback and not allow_http_localhost else "")
    if address is None:
        if _internal_name(host) and not local:
            raise InvalidWebhookUrl("the URL must name a public host (not localhost, an internal or metadata "
                                    "name, or a name without a domain)" + hint, INTERNAL_NAME)
    else:
        reason = address_refusal(address, loopback_ok=local)
        if reason:
            raise InvalidWebhookUrl(f"the URL must point at a public address (this one is {reason})" + hint,
                                    PUBLIC_ADDRESS)
    if scheme != "https" and not (scheme == "http" and local):
        raise InvalidWebhookUrl("the URL must use https" + hint, HTTPS)
    return Target(scheme=scheme, host=host, address=address, loopback_ok=local)


def check_url(url: str, *, allow_http_localhost: bool) -> str:
    """https only, no credentials or fragment, a public host: no address that is not public, however it
    is spelled, and no name known to be internal. Plain http (and the loopback address) only to this
    machine and only when the setting allows it (tests and the demo). Names are resolved at delivery."""
    target_of(url, allow_http_localhost=allow_http_localhost)
    return url


def target_of(url: str, *, allow_http_localhost: bool) -> Target:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise InvalidWebhookUrl("not a URL") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise InvalidWebhookUrl("the URL must use https", HTTPS)
    if not parts.hostname:
        raise InvalidWebhookUrl("the URL has no host", VALID_HOST)
    if parts.username or parts.password or "@" in parts.netloc:
        raise InvalidWebhookUrl("the URL must not carry credentials", NO_CREDENTIALS)
    if parts.fragment or "#" in url:
        raise InvalidWebhookUrl("the URL must not have a fragment", NO_FRAGMENT)
    if any(c in url for c in "\\\r\n\t "):
        raise InvalidWebhookUrl("not a URL")
    return check_host(parts.hostname, scheme, allow_http_localhost=allow_http_localhost)


# --- what a council reads about a failed attempt ----------------------------------------------------
class DeliveryError:
    """Delivery errors as codes: the council learns what kind of failure it was, never which internal
    addresses or ports exist (no exception text, no address)."""
    REFUSED_ADDRESS = "refused_address"  # the URL, or an address its name resolves to, is not public
    REFUSED_URL = "refused_url"          # the URL breaks a rule other than its address (scheme, credentials)
    DNS_FAILURE = "dns_failure"          # the name did not resolve
    CONNECT_FAILED = "connect_failed"    # no connection (refused, unreachable, reset)
    TIMEOUT = "timeout"                  # no answer in ITP_WEBHOOK_TIMEOUT_SECONDS
    TLS_ERROR = "tls_error"              # the TLS handshake or the certificate failed
    PROTOCOL_ERROR = "protocol_error"    # the receiver's answer was not HTTP

    @staticmethod
    def http(status: int) -> str:
        return f"http_{status}"


_CODE = re.compile(r"^(refused_address|refused_url|dns_failure|connect_failed|timeout|tls_error|protocol_error|"
                   r"http_\d{3})$")


def public_error(error: str | None, status_code: int | None) -> str | None:
    """What the delivery log shows of a stored error: a code as is; anything else (text recorded before
    errors were codes) as the code it stands for, never the text."""
    if error is None or _CODE.match(error):
        return error
    return DeliveryError.http(status_code) if status_code is not None else DeliveryError.CONNECT_FAILED


# --- endpoint operations' errors (mapped to problems once, in the webhooks API) -----------------------
class WebhookError(Exception):
    pass


class EndpointNotFound(WebhookError):
    pass


class DeliveryNotFound(WebhookError):
    pass


class NotACouncil(WebhookError):
    pass


class UrlTaken(WebhookError):
    def __init__(self, endpoint_id: str):
        super().__init__(endpoint_id)
        self.endpoint_id = endpoint_id


class EndpointDisabled(WebhookError):
    pass


class DeliveryWithheld(WebhookError):
    """A delivery withheld for a restriction of processing is never sent, not even after the lift."""


class Stale(WebhookError):
    def __init__(self, current_version: int):
        super().__init__(current_version)
        self.current_version = current_version


def subscribed(event_types: list[str], event_type: str, renamed: dict[str, str] | None = None) -> bool:
    """An endpoint names event types exactly, or a family with `referral.*`, or everything with `*`. A type
    renamed since the endpoint subscribed (`renamed`: old -> new, the catalogue's deprecated aliases) still
    reaches it under its new name."""
    renamed = renamed or {}
    for wanted in event_types:
        if wanted == "*" or wanted == event_type or renamed.get(wanted) == event_type:
            return True
        if wanted.endswith(".*") and event_type.startswith(wanted[:-1]):
            return True
    return False


# A council's delivery about a child whose record is under a restriction of processing (decision 0006) is not sent:
# it is logged in this state, with the reason as a code and the restriction's id, and nothing of the event.
WITHHELD = "withheld"
WITHHELD_FOR_RESTRICTION = "restriction"


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
