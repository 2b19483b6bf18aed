"""Which service answers which path. The most specific prefix wins."""
from __future__ import annotations

import re

# (pattern on the path, service). Checked in order.
ROUTES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^/v1/referrals/[^/]+/matches$"), "matching"),
    (re.compile(r"^/v1/referrals(/|$)"), "referral"),
    (re.compile(r"^/v1/(homes|admissions|beds|outreach-teams)(/|$)"), "matching"),
    (re.compile(r"^/v1/(placements|plans|reviews|deadlines|interventions)(/|$)"), "assessment"),
    (re.compile(r"^/v1/(contracts|fee-periods|invoices|fee-schedules|viability)(/|$)"), "billing"),
    (re.compile(r"^/v1/(outcomes|journeys|sufficiency|reports)(/|$)"), "outcomes"),
]

UPSTREAMS = ("referral", "matching", "assessment", "billing", "outcomes")


def service_for(path: str) -> str | None:
    for pattern, service in ROUTES:
        if pattern.match(path):
            return service
    return None


# --- which methods a path supports (the Allow header of a 405) -------------------------------------
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
MethodIndex = list[tuple[re.Pattern[str], frozenset[str]]]


def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("^" + "".join((".+" if p.endswith(":path}") else "[^/]+") if p.startswith("{") else re.escape(p)
                                    for p in parts) + "$")


def method_index(openapi_document: dict) -> MethodIndex:
    """Each path template of an OpenAPI document with the methods it has."""
    return [(_template_regex(template), frozenset(m.upper() for m in item if m in HTTP_METHODS))
            for template, item in openapi_document.get("paths", {}).items()]


def allowed_methods(index: MethodIndex, path: str) -> list[str]:
    """Every method of every template matching the path (a router's own 405 names only the first route's)."""
    allowed: set[str] = set()
    for pattern, methods in index:
        if pattern.match(path):
            allowed |= methods
    return sorted(allowed)
