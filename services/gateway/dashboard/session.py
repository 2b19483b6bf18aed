"""The dashboard's sign-in session: it outlives the 10-minute access token without keeping the user's secret.

At sign-in the dashboard keeps two HttpOnly, SameSite=Strict cookies scoped to /dashboard: the access token
(`itp_session`, what every page sends to the API) and a session token (`itp_dashboard_session`), a JWT signed with
the gateway's own keys for the audience `itp-dashboard-session`, naming the client and the scopes it signed in
with, valid for the session limit (`ITP_DASHBOARD_SESSION_SECONDS`, 8 hours by default). The API never accepts
the session token (wrong audience). When the access token has expired or has less than a minute left, the
dashboard mints a fresh one for the same client, as the token endpoint would, after reading the client again:
a client disabled or removed since sign-in ends the session, its scopes are never more than at sign-in nor than
it holds now, a home manager's homes are its current ones, and no access token outlives the session. After the
session limit the user signs in again."""
from __future__ import annotations

from fastapi import Request

from libs.common.auth import InvalidToken, KeyStore, Principal, TokenVerifier, mint_token

from ..clients import client_by_id

SESSION_AUDIENCE = "itp-dashboard-session"
SESSION_COOKIE = "itp_dashboard_session"
REFRESH_BEFORE_SECONDS = 60


def session_seconds(settings) -> int:
    return int(getattr(settings, "dashboard_session_seconds", 8 * 3600))


def mint_session(settings, principal: Principal, keys=None) -> str:
    """keys: the gateway's signing keys (app.state.signing_keys: the key file, or the database's shared by
    every replica with ITP_GATEWAY_STATE=database); the key file when not given."""
    return mint_token(keys or KeyStore(settings.resolved_keys_file), client_id=principal.client_id, role=principal.role,
                      scopes=principal.scopes, ttl_seconds=session_seconds(settings), audience=SESSION_AUDIENCE)


def _session_verifier(app) -> TokenVerifier:
    verifier = getattr(app.state, "dashboard_session_verifier", None)
    api = app.state.runtime.verifier
    if verifier is None or verifier.source is not api.source:
        verifier = app.state.dashboard_session_verifier = TokenVerifier(api.source, audience=SESSION_AUDIENCE,
                                                                        now=lambda: api.now())
    return verifier


def needs_refresh(app, principal: Principal | None) -> bool:
    if principal is None or principal.expires_at is None:
        return True
    return principal.expires_at - app.state.runtime.verifier.now() < REFRESH_BEFORE_SECONDS


async def fresh_access_token(request: Request) -> str | None:
    """A new access token for the session's client, or None when the session is over (expired, tampered with,
    or the client is no longer active)."""
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    app = request.app
    try:
        session = await _session_verifier(app).verify(raw)
    except InvalidToken:
        return None
    runtime = app.state.runtime
    async with runtime.db.session() as db:
        row = await client_by_id(db, session.client_id)
    if row is None or not row.active or row.la_code or row.role != session.role:
        return None
    scopes = sorted(set(row.scopes) & set(session.scopes))
    settings = runtime.settings
    now = runtime.verifier.now()
    expires = min(now + settings.token_ttl_seconds, session.expires_at)
    return mint_token(app.state.signing_keys, client_id=row.client_id, role=row.role, scopes=scopes,
                      homes=row.homes or (), now=now, expires_at=expires)
