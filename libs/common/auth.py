"""Access tokens and principals. The gateway signs short-lived JWTs (ES256, with a kid); every service
verifies them itself against the gateway's JWKS and checks the scope: the gateway is not the only wall.

An endpoint states who may call it in its signature (the pattern of polar's auth.py):

    principal: Annotated[Principal, Authorize("referrals:read")]
"""
from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterable

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from jwt.algorithms import ECAlgorithm

from .errors import ProblemError

ISSUER = "itp-gateway"
AUDIENCE = "itp-api"
ALGORITHM = "ES256"
HUB_ROLES = ("hub", "finance", "home_manager", "provider_admin")


@dataclass(frozen=True)
class Principal:
    client_id: str
    la_code: str | None = None
    role: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    homes: tuple[str, ...] = ()  # a home_manager's homes

    @property
    def is_council(self) -> bool:
        return self.la_code is not None

    @property
    def is_hub(self) -> bool:
        return self.role == "hub"

    def allows(self, scope: str) -> bool:
        # the hub role may do everything; everyone else needs the scope granted to their client
        return self.is_hub or scope in self.scopes


class InvalidToken(Exception):
    pass


# --- signing keys (the gateway's) ----------------------------------------------------------------
class KeyStore:
    """Signing keys in a JSON file. Two keys are live at once after a rotation: the new one signs,
    the previous one still verifies tokens it signed until they expire; older keys are retired."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def _load(self) -> list[dict]:
        if not self.path.exists():
            return []
        return json.loads(self.path.read_text())["keys"]

    def _save(self, keys: list[dict]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"keys": keys}, indent=2))
        os.chmod(tmp, 0o600)
        tmp.replace(self.path)

    @staticmethod
    def _new_key() -> dict:
        private = ec.generate_private_key(ec.SECP256R1())
        pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
        return {"kid": uuid.uuid4().hex[:16], "private_pem": pem, "status": "active",
                "created_at": datetime.now(timezone.utc).isoformat()}

    def ensure(self) -> None:
        if not any(k["status"] == "active" for k in self._load()):
            self._save(self._load() + [self._new_key()])

    def rotate(self) -> dict:
        keys = self._load()
        for key in keys:
            if key["status"] == "previous":
                key["status"] = "retired"
            elif key["status"] == "active":
                key["status"] = "previous"
        new = self._new_key()
        self._save([k for k in keys if k["status"] != "retired"] + [new])
        return {"active": new["kid"], "previous": [k["kid"] for k in keys if k["status"] == "previous"]}

    def signing_key(self) -> tuple[str, Any]:
        self.ensure()
        key = next(k for k in self._load() if k["status"] == "active")
        return key["kid"], serialization.load_pem_private_key(key["private_pem"].encode(), password=None)

    def jwks(self) -> dict:
        self.ensure()
        out = []
        for key in self._load():
            if key["status"] not in ("active", "previous"):
                continue
            public = serialization.load_pem_private_key(key["private_pem"].encode(), password=None).public_key()
            jwk = json.loads(ECAlgorithm.to_jwk(public))
            jwk.update({"kid": key["kid"], "use": "sig", "alg": ALGORITHM})
            out.append(jwk)
        return {"keys": out}


def mint_token(store: KeyStore, *, client_id: str, la_code: str | None = None, role: str | None = None,
               scopes: Iterable[str] = (), homes: Iterable[str] = (), ttl_seconds: int = 600,
               now: float | None = None) -> str:
    kid, key = store.signing_key()
    issued = int(now if now is not None else time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": client_id, "iat": issued, "nbf": issued,
              "exp": issued + ttl_seconds, "jti": uuid.uuid4().hex, "scope": " ".join(sorted(set(scopes)))}
    if la_code:
        claims["la"] = la_code
    if role:
        claims["role"] = role
    if homes:
        claims["homes"] = list(homes)
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": kid})


# --- verification (every service) ------------------------------------------------------------------
JwksSource = Callable[[], Awaitable[dict]]


class TokenVerifier:
    def __init__(self, source: JwksSource, *, refresh_after: float = 300.0):
        self.source = source
        self.refresh_after = refresh_after
        self._keys: dict[str, Any] = {}
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings) -> "TokenVerifier":
        if settings.jwks_url:
            import httpx
            url = settings.jwks_url

            async def fetch() -> dict:
                async with httpx.AsyncClient(timeout=5) as client:
                    resp = await client.get(url)
                    resp.raise_for_status()
                    return resp.json()
            return cls(fetch)
        store = KeyStore(settings.resolved_keys_file)

        async def local() -> dict:
            return store.jwks()
        return cls(local, refresh_after=1.0)

    async def _refresh(self, force: bool = False) -> None:
        async with self._lock:
            if not force and time.monotonic() - self._fetched_at < self.refresh_after and self._keys:
                return
            if force and time.monotonic() - self._fetched_at < 0.5:
                return  # at most two fetches a second, whatever a caller sends
            jwks = await self.source()
            self._keys = {k["kid"]: ECAlgorithm.from_jwk(json.dumps(k)) for k in jwks.get("keys", [])}
            self._fetched_at = time.monotonic()

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"malformed token: {exc}") from None
        if header.get("alg") != ALGORITHM:
            raise InvalidToken("unsupported algorithm")
        kid = header.get("kid")
        await self._refresh()
        if kid not in self._keys:
            await self._refresh(force=True)
        key = self._keys.get(kid)
        if key is None:
            raise InvalidToken("unknown signing key")
        try:
            claims = jwt.decode(token, key, algorithms=[ALGORITHM], audience=AUDIENCE, issuer=ISSUER,
                                options={"require": ["exp", "iat", "sub", "aud", "iss"]})
        except jwt.ExpiredSignatureError:
            raise InvalidToken("token expired") from None
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"invalid token: {exc}") from None
        return Principal(client_id=claims["sub"], la_code=claims.get("la"), role=claims.get("role"),
                         scopes=frozenset(claims.get("scope", "").split()), homes=tuple(claims.get("homes", ())))


_bearer = HTTPBearer(auto_error=False, description="An access token from POST /oauth/token")


def _unauthorized(detail: str) -> ProblemError:
    return ProblemError(401, "Unauthorized", detail, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


def Authorize(*scopes: str, roles: Iterable[str] | None = None, councils: bool = True):
    """A dependency: a valid token carrying every scope named. roles limits which hub roles may call;
    councils=False keeps council clients out (hub-only operations)."""
    allowed_roles = set(roles) if roles is not None else None

    async def dependency(request: Request,
                         credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Principal:
        if credentials is None:
            raise _unauthorized("A bearer token is required.")
        verifier: TokenVerifier = request.app.state.runtime.verifier
        try:
            principal = await verifier.verify(credentials.credentials)
        except InvalidToken as exc:
            raise _unauthorized(str(exc)) from None
        forbidden = ProblemError(403, "Forbidden", f"This operation needs the scope(s) {' '.join(scopes)}.",
                                 headers={"WWW-Authenticate": f'Bearer error="insufficient_scope" scope="{" ".join(scopes)}"'})
        if principal.is_council and not councils:
            raise forbidden
        if not principal.is_council and allowed_roles is not None and principal.role not in allowed_roles \
                and not principal.is_hub:
            raise forbidden
        if not all(principal.allows(s) for s in scopes):
            raise forbidden
        request.state.principal = principal
        return principal

    return Depends(dependency)
