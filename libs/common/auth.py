"""Access tokens and principals. The gateway signs short-lived JWTs (ES256, with a kid) and every service
verifies them itself against the gateway's JWKS and checks the scope: the gateway is not the only wall.

Two audiences (docs/decisions/0005-door-tokens.md): the tokens clients get from /oauth/token are for the
public API (`itp-api`) and only the gateway accepts them; the services accept only an internal token
(`itp-internal`, about a minute long) that the gateway mints from the caller's when it forwards a request.
A council token sent straight to a service's port is refused, so no read of a child's record can skip
the gateway's access log.

An endpoint states who may call it in its signature (the pattern of polar's auth.py):

    principal: Annotated[Principal, Authorize("referrals:read")]
"""
from __future__ import annotations

import asyncio
import hashlib
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
AUDIENCE = "itp-api"  # tokens the gateway issues to clients; accepted at the gateway only
INTERNAL_AUDIENCE = "itp-internal"  # tokens the gateway mints when it forwards; accepted by the services only
INTERNAL_TTL_SECONDS = 60
Clock = Callable[[], float]
ALGORITHM = "ES256"
HUB_ROLES = ("hub", "finance", "home_manager", "provider_admin")


@dataclass(frozen=True)
class Principal:
    client_id: str
    la_code: str | None = None
    role: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    homes: tuple[str, ...] = ()  # a home_manager's homes
    expires_at: float | None = field(default=None, compare=False, repr=False)  # the token's exp

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
        self._cached: tuple[int, str, Any] | None = None  # (file mtime_ns, kid, private key)

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
        kid, pem = new_signing_key()
        return {"kid": kid, "private_pem": pem, "status": "active", "created_at": datetime.now(timezone.utc).isoformat()}

    def keys(self) -> list[dict]:
        """The file's keys as stored (kid, private_pem, status, created_at)."""
        return self._load()

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

    def cached_signing_key(self) -> tuple[str, Any]:
        """signing_key() without reading and parsing the file on every call: reloaded when the file changes
        (a rotation by `itp keys rotate` in another process is seen at the next call)."""
        try:
            mtime = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            mtime = -1
        if self._cached is None or self._cached[0] != mtime:
            kid, key = self.signing_key()
            self._cached = (self.path.stat().st_mtime_ns, kid, key)
        return self._cached[1], self._cached[2]

    def jwks(self) -> dict:
        self.ensure()
        return {"keys": [public_jwk(key["kid"], key["private_pem"]) for key in self._load()
                         if key["status"] in ("active", "previous")]}


def new_signing_key() -> tuple[str, str]:
    """A fresh ES256 key: (kid, private key as PKCS#8 PEM)."""
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return uuid.uuid4().hex[:16], pem


def public_jwk(kid: str, private_pem: str) -> dict:
    """The public half of a signing key as the JWKS lists it."""
    public = serialization.load_pem_private_key(private_pem.encode(), password=None).public_key()
    jwk = json.loads(ECAlgorithm.to_jwk(public))
    jwk.update({"kid": kid, "use": "sig", "alg": ALGORITHM})
    return jwk


class KeySet:
    """Signing keys held in memory, with the two calls mint_token and ForwardedTokens make of a KeyStore
    (cached_signing_key, jwks). The gateway fills it from its database when its replicas share their keys
    (services/gateway/keys.py); the private key is parsed once per signing key, not per token."""

    def __init__(self) -> None:
        self._signing: tuple[str, Any] | None = None
        self._public: list[dict] = []

    def replace(self, *, signing: tuple[str, str] | None, public: list[dict]) -> None:
        """signing: (kid, private PEM) of the key that signs now; public: every JWK that verifies."""
        if signing is None:
            self._signing = None
        elif self._signing is None or self._signing[0] != signing[0]:
            self._signing = (signing[0], serialization.load_pem_private_key(signing[1].encode(), password=None))
        self._public = [dict(k) for k in public]

    @property
    def loaded(self) -> bool:
        return self._signing is not None

    def cached_signing_key(self) -> tuple[str, Any]:
        if self._signing is None:
            raise RuntimeError("no signing key loaded yet")
        return self._signing

    def jwks(self) -> dict:
        return {"keys": [dict(k) for k in self._public]}


def mint_token(store: KeyStore, *, client_id: str, la_code: str | None = None, role: str | None = None,
               scopes: Iterable[str] = (), homes: Iterable[str] = (), ttl_seconds: int = 600,
               now: float | None = None, audience: str = AUDIENCE, expires_at: float | None = None,
               extra: dict | None = None) -> str:
    """A token for the public API (what /oauth/token issues, and what tests send to the gateway).
    audience=INTERNAL_AUDIENCE makes the token a service accepts (see mint_service_token)."""
    kid, key = store.cached_signing_key()
    issued = int(now if now is not None else time.time())
    exp = issued + ttl_seconds if expires_at is None else int(expires_at)
    claims = {"iss": ISSUER, "aud": audience, "sub": client_id, "iat": issued, "nbf": issued,
              "exp": exp, "jti": uuid.uuid4().hex, "scope": " ".join(sorted(set(scopes)))}
    if la_code:
        claims["la"] = la_code
    if role:
        claims["role"] = role
    if homes:
        claims["homes"] = list(homes)
    claims.update(extra or {})
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": kid})


def mint_service_token(store: KeyStore, *, client_id: str, ttl_seconds: int = INTERNAL_TTL_SECONDS,
                       **claims) -> str:
    """A token a service accepts, as the gateway mints it when it forwards a request. For tests and benches
    that call a service directly (bypassing the gateway, and therefore its access log)."""
    return mint_token(store, client_id=client_id, ttl_seconds=ttl_seconds, audience=INTERNAL_AUDIENCE, **claims)


class ForwardedTokens:
    """The gateway's internal tokens: one per caller token, cached until it has less than a quarter of its
    life left, so forwarding costs a dictionary lookup and not a signature per request. An internal token
    carries the caller's claims (sub, la, role, scope, homes), never outlives the caller's token, and is
    keyed by the signing key too, so a rotation starts new ones at once."""

    def __init__(self, store: KeyStore, *, ttl_seconds: int = INTERNAL_TTL_SECONDS, now: Clock = time.time,
                 max_entries: int = 10_000):
        self.store = store
        self.ttl_seconds = ttl_seconds
        self.now = now
        self.max_entries = max_entries
        self._cache: dict[tuple[bytes, str], tuple[str, float]] = {}

    def for_caller(self, caller_token: str, principal: Principal, *, request_id: str | None = None) -> str:
        now = self.now()
        kid, _ = self.store.cached_signing_key()
        key = (hashlib.sha256(caller_token.encode()).digest(), kid)
        cached = self._cache.get(key)
        if cached is not None and cached[1] - now > self.ttl_seconds / 4:
            return cached[0]
        expires_at = now + self.ttl_seconds
        if principal.expires_at is not None:
            expires_at = min(expires_at, principal.expires_at)
        extra = {"rid": request_id} if request_id else None  # the request that minted it, for tracing
        token = mint_token(self.store, client_id=principal.client_id, la_code=principal.la_code, role=principal.role,
                           scopes=principal.scopes, homes=principal.homes, now=now, expires_at=expires_at,
                           audience=INTERNAL_AUDIENCE, extra=extra)
        if len(self._cache) >= self.max_entries:
            self._evict(now)
        self._cache[key] = (token, expires_at)
        return token

    def _evict(self, now: float) -> None:
        stale = [k for k, (_, exp) in self._cache.items() if exp - now <= self.ttl_seconds / 4]
        for k in stale or list(self._cache)[: len(self._cache) // 2]:
            del self._cache[k]


# --- verification (every service) ------------------------------------------------------------------
JwksSource = Callable[[], Awaitable[dict]]


class TokenVerifier:
    """now: the wall clock that exp, nbf and iat are checked against; monotonic: the clock of the key set's
    refresh. Both injectable, so tests move time instead of waiting for it."""

    NBF_LEEWAY_SECONDS = 5  # a service whose clock is behind the gateway's still takes a token just minted

    def __init__(self, source: JwksSource, *, refresh_after: float = 300.0, audience: str = AUDIENCE,
                 now: Clock = time.time, monotonic: Clock = time.monotonic, max_cached: int = 10_000):
        self.source = source
        self.refresh_after = refresh_after
        self.audience = audience
        self.now = now
        self.monotonic = monotonic
        self._keys: dict[str, Any] = {}
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()
        # tokens that verified, by their exact text: (principal, kid, nbf). A hit skips the signature check
        # (an ECDSA verify and two JSON decodes) but not the clock (exp, nbf) nor the key (its kid still listed).
        self._verified: dict[str, tuple[Principal, str, float]] = {}
        self.max_cached = max_cached

    @classmethod
    def from_settings(cls, settings) -> "TokenVerifier":
        """The gateway accepts the public API's tokens; every other service only the gateway's internal ones."""
        audience = AUDIENCE if settings.service == "gateway" else INTERNAL_AUDIENCE
        if settings.jwks_url:
            import httpx
            url = settings.jwks_url

            async def fetch() -> dict:
                async with httpx.AsyncClient(timeout=5) as client:
                    resp = await client.get(url)
                    resp.raise_for_status()
                    return resp.json()
            return cls(fetch, audience=audience)
        store = KeyStore(settings.resolved_keys_file)

        async def local() -> dict:
            return store.jwks()
        return cls(local, refresh_after=1.0, audience=audience)

    async def _refresh(self, force: bool = False) -> None:
        if not force and self._keys and self._fetched_at is not None \
                and self.monotonic() - self._fetched_at < self.refresh_after:
            return  # the common case, without taking the lock
        async with self._lock:
            age = None if self._fetched_at is None else self.monotonic() - self._fetched_at
            if not force and age is not None and age < self.refresh_after and self._keys:
                return
            if force and age is not None and age < 0.5:
                return  # at most two fetches a second, whatever a caller sends
            jwks = await self.source()
            self._keys = {k["kid"]: ECAlgorithm.from_jwk(json.dumps(k)) for k in jwks.get("keys", [])}
            self._fetched_at = self.monotonic()

    async def verify(self, token: str) -> Principal:
        """The caller's principal, or InvalidToken with a short fixed reason (never the JWT library's text)."""
        await self._refresh()
        cached = self._verified.get(token)
        if cached is not None:
            principal, kid, nbf = cached
            if kid in self._keys:
                now = self.now()
                if now >= principal.expires_at:
                    del self._verified[token]
                    raise InvalidToken("token expired")
                if now >= nbf - self.NBF_LEEWAY_SECONDS:
                    return principal
            else:
                del self._verified[token]  # its key was retired: checked afresh (and refused) below
        principal, kid, nbf = await self._verify_signed(token)
        if len(self._verified) >= self.max_cached:
            now = self.now()
            self._verified = {t: v for t, v in self._verified.items() if v[0].expires_at > now}
            if len(self._verified) >= self.max_cached:
                self._verified.clear()
        self._verified[token] = (principal, kid, nbf)
        return principal

    async def _verify_signed(self, token: str) -> tuple[Principal, str, float]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidToken("malformed token") from None
        if header.get("alg") != ALGORITHM:
            raise InvalidToken("unsupported algorithm")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise InvalidToken("unknown signing key")
        await self._refresh()
        if kid not in self._keys:
            await self._refresh(force=True)
        key = self._keys.get(kid)
        if key is None:
            raise InvalidToken("unknown signing key")
        try:
            # the times are checked below against self.now, so that tests can move the clock
            claims = jwt.decode(token, key, algorithms=[ALGORITHM], audience=self.audience, issuer=ISSUER,
                                options={"require": ["exp", "iat", "sub", "aud", "iss"], "verify_exp": False,
                                         "verify_nbf": False, "verify_iat": False})
        except jwt.InvalidAudienceError:
            raise InvalidToken("token not accepted here") from None
        except jwt.PyJWTError:
            raise InvalidToken("invalid token") from None
        now = self.now()
        try:
            exp, nbf = float(claims["exp"]), float(claims.get("nbf", claims["iat"]))
        except (TypeError, ValueError):
            raise InvalidToken("invalid token") from None
        if now >= exp:
            raise InvalidToken("token expired")
        if now < nbf - self.NBF_LEEWAY_SECONDS:
            raise InvalidToken("token not yet valid")
        try:
            principal = Principal(client_id=str(claims["sub"]), la_code=claims.get("la"), role=claims.get("role"),
                                  scopes=frozenset(str(claims.get("scope", "")).split()),
                                  homes=tuple(claims.get("homes", ())), expires_at=exp)
        except TypeError:
            raise InvalidToken("invalid token") from None
        return principal, kid, nbf


_bearer = HTTPBearer(auto_error=False, description="An access token from POST /oauth/token")


def unauthorized(detail: str) -> ProblemError:
    """401 with a short fixed reason ("invalid token", "token expired", ...)."""
    return ProblemError(401, "Unauthorized", detail, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


_unauthorized = unauthorized


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
        if (principal.is_council and not councils) \
                or (not principal.is_council and allowed_roles is not None and principal.role not in allowed_roles
                    and not principal.is_hub) \
                or not all(principal.allows(s) for s in scopes):
            raise ProblemError(403, "Forbidden", f"This operation needs the scope(s) {' '.join(scopes)}.",
                               headers={"WWW-Authenticate": f'Bearer error="insufficient_scope" scope="{" ".join(scopes)}"'})
        request.state.principal = principal
        return principal

    dependency.itp_scopes = scopes  # type: ignore[attr-defined]  # the OpenAPI document names them (web.py)
    return Depends(dependency)
