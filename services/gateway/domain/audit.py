"""The access log's rules: what a request did to which child record, named without child data.

A child's record is keyed by its referral id. The action names the route by its template (ids
replaced by {id}), so the log can be grouped by operation without parsing ids out of it.
"""
from __future__ import annotations

import re

from libs.common import pagination

_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
# Paths whose first id is a child's record (the referral id). A council that gets 404 here was
# asking for a record it cannot see: the access log keeps the attempt as `denied`.
_CHILD_RECORD_PATHS = (re.compile(r"^/v1/referrals/(?P<id>[^/]+)(/|$)"),)

VERBS = {"GET": "read", "HEAD": "read", "POST": "create", "PUT": "update", "PATCH": "update", "DELETE": "delete"}


def route_template(path: str) -> str:
    """/v1/referrals/3f2c.../matches -> /v1/referrals/{id}/matches"""
    return "/".join("{id}" if _UUID.match(part) or part.isdigit() else part for part in path.split("/"))


DENIED = (403, 404, 451)


def verb(method: str, status: int) -> str:
    """read / create / update / delete, or denied when the caller could not see the record (451: a council's
    own child under a restriction of processing, decision 0006)."""
    if status in DENIED:
        return "denied"
    return VERBS.get(method.upper(), method.lower())


def child_records(header_value: str | None) -> list[str]:
    """The ids a service named in X-ITP-Child-Records, each once, in order."""
    if not header_value:
        return []
    return list(dict.fromkeys(part.strip() for part in header_value.split(",") if part.strip()))


def denied_child_record(path: str) -> str | None:
    """The child record id a request asked for, when its path names one (checked only on a 404/403)."""
    for pattern in _CHILD_RECORD_PATHS:
        m = pattern.match(path)
        if m and _UUID.match(m.group("id")):
            return m.group("id").lower()
    return None


def encode_cursor(last_id: int) -> str:
    return pagination.encode_cursor("a", last_id)


def decode_cursor(cursor: str) -> int:
    """Raises ValueError (InvalidCursor) on anything that is not a cursor this API handed out."""
    last_id, = pagination.decode_cursor(cursor, "a", int)
    if last_id < 0:
        raise pagination.InvalidCursor("not a cursor")
    return last_id
