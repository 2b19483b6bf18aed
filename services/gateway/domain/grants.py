"""The client credentials grant (RFC 6749 section 4.4) as a pure decision: which scopes a token carries,
or which RFC 6749 section 5.2 error the client gets."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OAuthError(Exception):
    error: str  # invalid_request | invalid_client | invalid_grant | unauthorized_client | unsupported_grant_type | invalid_scope
    description: str
    status: int = 400


def _single(form: dict[str, list[str]], name: str) -> str | None:
    values = form.get(name)
    if not values:
        return None
    if len(values) > 1:
        # RFC 6749 section 3.2: request parameters MUST NOT be included more than once
        raise OAuthError("invalid_request", f"The parameter {name} is repeated.")
    return values[0]


def client_credentials_from(form: dict[str, list[str]], basic: tuple[str, str] | None) -> tuple[str, str]:
    """Client authentication by HTTP Basic or by form fields, never both (RFC 6749 section 2.3)."""
    form_id, form_secret = _single(form, "client_id"), _single(form, "client_secret")
    if basic is not None:
        if form_secret is not None:
            raise OAuthError("invalid_request", "Use one client authentication method: HTTP Basic or form fields.")
        if form_id is not None and form_id != basic[0]:
            raise OAuthError("invalid_request", "client_id in the form differs from the HTTP Basic user.")
        return basic
    if not form_id or form_secret is None:
        raise OAuthError("invalid_client", "Client authentication failed: no client credentials were sent.", 401)
    return form_id, form_secret


def check_grant_type(form: dict[str, list[str]]) -> None:
    grant_type = _single(form, "grant_type")
    if grant_type is None:
        raise OAuthError("invalid_request", "The parameter grant_type is required.")
    if grant_type != "client_credentials":
        raise OAuthError("unsupported_grant_type",
                         f"The grant type {grant_type!r} is not supported; use client_credentials.")


def granted_scopes(form: dict[str, list[str]], allowed: list[str] | tuple[str, ...]) -> list[str]:
    """No scope asked: every scope the client was given. Otherwise each scope asked must be given."""
    requested = _single(form, "scope")
    if requested is None or not requested.strip():
        return sorted(set(allowed))
    asked = requested.split()
    missing = sorted(set(asked) - set(allowed))
    if missing:
        raise OAuthError("invalid_scope", f"The client is not granted the scope(s): {' '.join(missing)}.")
    return sorted(set(asked))
