"""The caller, decoded once per request at the door (rate limits, the access log and the proxy need it).
An absent or invalid token is simply no principal here; why a presented token was refused is kept too, so
that the proxy can answer 401 itself (services never see the caller's token: see proxy.py)."""
from __future__ import annotations

from libs.common.auth import InvalidToken, Principal, TokenVerifier

_KEY = "gateway_principal"
_TOKEN = "gateway_bearer_token"
_REFUSED = "gateway_token_refused"


async def principal_of(scope, verifier: TokenVerifier) -> Principal | None:
    state = scope.setdefault("state", {})
    if _KEY in state:
        return state[_KEY]
    principal = None
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                state[_TOKEN] = token.strip()
                try:
                    principal = await verifier.verify(token.strip())
                except InvalidToken as exc:
                    state[_REFUSED] = str(exc)
                    principal = None
            break
    state[_KEY] = principal
    return principal


def bearer_token(scope) -> str | None:
    """The caller's bearer token as presented (after principal_of has run)."""
    return scope.get("state", {}).get(_TOKEN)


def refusal(scope) -> str | None:
    """Why the caller's bearer token was refused ("token expired", ...), or None."""
    return scope.get("state", {}).get(_REFUSED)


def client_key(scope, principal: Principal | None) -> str:
    if principal is not None:
        return f"client:{principal.client_id}"
    client = scope.get("client")
    return f"ip:{client[0] if client else 'unknown'}"
