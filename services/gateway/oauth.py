"""The token endpoint (OAuth2 client credentials, RFC 6749 section 4.4) and the JWKS that every service
verifies tokens against. Errors here follow RFC 6749 section 5.2, not problem+json: that is what OAuth
client libraries expect."""
from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import time
from urllib.parse import parse_qs, unquote_plus

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from libs.common.auth import mint_token

from .domain.grants import OAuthError, check_grant_type, client_credentials_from, granted_scopes
from .domain.ratelimit import FailureBudget, retry_after_header
from .domain.secrets import VerifiedSecrets, hash_secret, verify_secret
from .clients import client_by_id

log = logging.getLogger("itp.gateway.oauth")
router = APIRouter(tags=["auth"])

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# Compared against when the client is unknown, so that a wrong id costs as long as a wrong secret.
_DUMMY_HASH = hash_secret("not-a-client-secret")

TOKEN_REQUEST_SCHEMA = {
    "required": True,
    "content": {"application/x-www-form-urlencoded": {"schema": {
        "type": "object", "required": ["grant_type"],
        "properties": {
            "grant_type": {"type": "string", "enum": ["client_credentials"]},
            "scope": {"type": "string", "description": "Space-separated; omit for every scope the client has"},
            "client_id": {"type": "string", "description": "Only when not using HTTP Basic"},
            "client_secret": {"type": "string", "description": "Only when not using HTTP Basic"},
        }}}},
}
OAUTH_ERROR = {"type": "object", "required": ["error"], "properties": {
    "error": {"type": "string", "enum": ["invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
                                         "unsupported_grant_type", "invalid_scope", "temporarily_unavailable"]},
    "error_description": {"type": "string"}}}
TOKEN_RESPONSES = {
    200: {"description": "An access token", "content": {"application/json": {"schema": {
        "type": "object", "required": ["access_token", "token_type", "expires_in", "scope"],
        "properties": {"access_token": {"type": "string"}, "token_type": {"type": "string", "enum": ["Bearer"]},
                       "expires_in": {"type": "integer"}, "scope": {"type": "string"}}}}}},
    400: {"description": "RFC 6749 section 5.2 error", "content": {"application/json": {"schema": OAUTH_ERROR}}},
    401: {"description": "invalid_client", "content": {"application/json": {"schema": OAUTH_ERROR}}},
    429: {"description": "Too many failed client authentications from this client id or address "
                         "(temporarily_unavailable); see Retry-After",
          "content": {"application/json": {"schema": OAUTH_ERROR}}},
}


class TooManyFailures(OAuthError):
    def __init__(self, wait_seconds: float):
        retry_after = retry_after_header(wait_seconds)
        super().__init__("temporarily_unavailable",
                         f"Too many failed client authentications; retry after {retry_after} s.", 429)
        object.__setattr__(self, "retry_after", retry_after)


class ClientAuthenticator:
    """Client secrets are checked so that a flood of wrong ones cannot slow anyone else down:
    - a secret that verified a moment ago is recognised by a fast hash (VerifiedSecrets), no scrypt;
    - failures are budgeted per client id and per IP (FailureBudget), checked BEFORE scrypt: over budget,
      the answer is 429 with Retry-After and no hashing at all;
    - scrypt (about 40 ms of CPU) runs in a worker thread, `concurrency` (1) at once and with at most
      `max_waiting` queued (beyond that 429 at once): the event loop stays free and a flood spread over many
      addresses holds one core at most, whatever else the machine runs."""

    def __init__(self, *, budget: FailureBudget | None = None, verified: VerifiedSecrets | None = None,
                 concurrency: int = 1, max_waiting: int = 16, clock=time.monotonic):
        self.budget = budget or FailureBudget()
        self.verified = verified or VerifiedSecrets()
        self.concurrency = concurrency
        self.max_waiting = max_waiting
        self.clock = clock
        self._slots: asyncio.Semaphore | None = None
        self._waiting = 0
        self.hashes = 0  # scrypt checks run (the bench and the tests read it)

    async def check(self, client_id: str, secret: str, ip: str, stored: str | None) -> bool:
        """stored: the client's secret hash, or None for an unknown or inactive client (which costs as long
        as a wrong secret, so that the answer does not tell which client ids exist)."""
        if stored is not None and self.verified.hit(client_id, secret, stored, self.clock()):
            return True
        if self._waiting >= self.max_waiting:
            raise TooManyFailures(1)
        wait = self.budget.take(client_id, ip, self.clock())  # counted as a failure until it verifies
        if wait > 0:
            raise TooManyFailures(wait)
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.concurrency)
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
        try:
            self.hashes += 1
            ok = await asyncio.to_thread(verify_secret, secret, stored or _DUMMY_HASH)
        finally:
            self._slots.release()
        if ok and stored is not None:
            self.budget.refund(client_id, ip)
            self.verified.remember(client_id, secret, stored, self.clock())
            return True
        return False


def authenticator_of(app) -> ClientAuthenticator:
    auth = getattr(app.state, "client_authenticator", None)
    if auth is None:
        auth = app.state.client_authenticator = ClientAuthenticator()
    return auth


def _error(exc: OAuthError, basic_used: bool) -> JSONResponse:
    headers = dict(NO_STORE)
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="itp", charset="UTF-8"'
    retry_after = getattr(exc, "retry_after", None)
    if retry_after:
        headers["Retry-After"] = retry_after
    return JSONResponse({"error": exc.error, "error_description": exc.description}, status_code=exc.status,
                        headers=headers)


def _basic(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        raise OAuthError("invalid_client", "Client authentication must use HTTP Basic or form fields.", 401)
    try:
        user, sep, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthError("invalid_client", "The HTTP Basic credentials are not valid base64.", 401) from None
    if not sep:
        raise OAuthError("invalid_client", "The HTTP Basic credentials need client_id:client_secret.", 401)
    # RFC 6749 section 2.3.1: both parts are form-urlencoded before they are put in the header
    return unquote_plus(user), unquote_plus(password)


@router.post("/oauth/token", name="get_token", summary="Get an access token (OAuth2 client credentials)",
             description="Authenticate with HTTP Basic (client_id:client_secret) or with client_id and "
                         "client_secret form fields. The token is a short-lived ES256 JWT; verify it with "
                         "/.well-known/jwks.json.",
             openapi_extra={"requestBody": TOKEN_REQUEST_SCHEMA}, responses=TOKEN_RESPONSES)
async def token(request: Request) -> JSONResponse:
    basic_used = bool(request.headers.get("authorization"))
    try:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            raise OAuthError("invalid_request", "The token request must be application/x-www-form-urlencoded.")
        try:
            form = parse_qs((await request.body()).decode(), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError:
            raise OAuthError("invalid_request", "The request body is not UTF-8.") from None
        basic = _basic(request)
        client_id, secret = client_credentials_from(form, basic)
        runtime = request.app.state.runtime
        async with runtime.db.session() as session:
            row = await client_by_id(session, client_id)
        stored = row.secret_hash if row is not None and row.active else None
        ip = request.client.host if request.client else "unknown"
        try:
            ok = await authenticator_of(request.app).check(client_id, secret, ip, stored)
        except TooManyFailures:
            log.info("token refused", extra={"client_id": client_id[:64], "reason": "failure_budget_spent"})
            raise
        if not ok:
            log.info("token refused", extra={"client_id": client_id[:64], "reason": "invalid_client"})
            raise OAuthError("invalid_client", "Client authentication failed.", 401)
        check_grant_type(form)
        scopes = granted_scopes(form, row.scopes)
    except OAuthError as exc:
        return _error(exc, basic_used)
    settings = runtime.settings
    access_token = mint_token(await signing_keys_of(request.app), client_id=row.client_id, la_code=row.la_code,
                              role=row.role, scopes=scopes, homes=row.homes or (), ttl_seconds=settings.token_ttl_seconds)
    log.info("token issued", extra={"client_id": row.client_id, "scope": " ".join(scopes)})
    return JSONResponse({"access_token": access_token, "token_type": "Bearer",
                         "expires_in": settings.token_ttl_seconds, "scope": " ".join(scopes)}, headers=NO_STORE)


@router.get("/.well-known/jwks.json", name="get_jwks", summary="The public keys that verify access tokens",
            description="During a key rotation two keys are listed: the one signing now and the one before it.")
async def jwks(request: Request) -> JSONResponse:
    return JSONResponse((await signing_keys_of(request.app)).jwks(), headers={"Cache-Control": "public, max-age=60"})


async def signing_keys_of(app):
    """The gateway's signing keys (app.py: the key file, or the database's shared by every replica, reread
    here if older than its refresh period so that a rotation elsewhere is seen before signing)."""
    keys = app.state.signing_keys
    fresh = getattr(keys, "fresh", None)
    if fresh is not None:
        await fresh()
    return keys
