"""Which service answers which path. The most specific prefix wins."""
from __future__ import annotations

import re

# (pattern on the path, service). Checked in order.
ROUTES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^/v1/referrals/[^/]+/matches$"), "matching"),
    (re.compile(r"^/v1/referrals(/|$)"), "referral"),
    (re.compile(r"^/v1/(homes|admissions|beds)(/|$)"), "matching"),
    (re.compile(r"^/v1/(placements|plans|reviews|deadlines)(/|$)"), "assessment"),
    (re.compile(r"^/v1/(contracts|fee-periods|invoices|fee-schedules)(/|$)"), "billing"),
    (re.compile(r"^/v1/(outcomes|journeys|sufficiency)(/|$)"), "outcomes"),
]

UPSTREAMS = ("referral", "matching", "assessment", "billing", "outcomes")


def service_for(path: str) -> str | None:
    for pattern, service in ROUTES:
        if pattern.match(path):
            return service
    return None
