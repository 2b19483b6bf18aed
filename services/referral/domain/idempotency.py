"""Idempotency keys for creating a referral. Pure: no web or database imports.

The same key with the same body is a retry and answers the referral already made; the same key with
a different body is a client bug and is refused. A key is scoped to the council that sent it.
"""
from __future__ import annotations

import hashlib
import json
import re

KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # visible ASCII, as the IETF Idempotency-Key draft's examples


class InvalidKey(ValueError):
    pass


def check_key(key: str) -> str:
    if not KEY.match(key):
        raise InvalidKey("Idempotency-Key must be 1 to 255 visible ASCII characters (a UUID is a good choice)")
    return key


def body_fingerprint(body: object) -> str:
    """A hash of the request body as JSON, independent of key order and whitespace."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
