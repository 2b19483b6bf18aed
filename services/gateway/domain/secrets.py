"""Client secrets are stored only as slow salted hashes (scrypt, RFC 7914)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

_N, _R, _P = 2**14, 8, 1


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_secret(secret: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(secret.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                               dklen=len(base64.b64decode(digest)))
    return hmac.compare_digest(candidate, base64.b64decode(digest))


class VerifiedSecrets:
    """Secrets that verified a moment ago, so that a client asking for tokens again does not pay the slow hash
    each time. Kept as a fast hash of (client id, secret) with the stored hash it matched: a new secret
    (another stored hash) misses; entries live `ttl` seconds."""

    def __init__(self, ttl: float = 300.0, max_entries: int = 10_000):
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[bytes, tuple[str, float]] = {}

    @staticmethod
    def _key(client_id: str, secret: str) -> bytes:
        return hashlib.sha256(client_id.encode() + b"\0" + secret.encode()).digest()

    def hit(self, client_id: str, secret: str, stored: str, now: float) -> bool:
        entry = self._entries.get(self._key(client_id, secret))
        return entry is not None and entry[1] > now and hmac.compare_digest(entry[0], stored)

    def remember(self, client_id: str, secret: str, stored: str, now: float) -> None:
        if len(self._entries) >= self.max_entries:
            live = {k: v for k, v in self._entries.items() if v[1] > now}
            self._entries = live if len(live) < self.max_entries else {}
        self._entries[self._key(client_id, secret)] = (stored, now + self.ttl)
