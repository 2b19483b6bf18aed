"""The caller, decoded once per request at the door (rate limits and the access log need it).
An absent or invalid token is simply no principal here: the route itself answers 401."""
from __future__ import annotations

from libs.common.auth import InvalidToken, Principal, TokenVerifier

_KEY = "gateway_principal"


async def principal_of(scope, verifier: TokenVerifier) -> Principal | None:
    state = scope.setdefault("state", {})
    if _KEY in state:
        return state[_KEY]
    principal = None
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token:
                try:
                    principal = await verifier.verify(token.strip())
                except InvalidToken:
                    principal = None
            break
    state[_KEY] = principal
    return principal


def client_key(scope, principal: Principal | None) -> str:
    if principal is not None:
        return f"client:{principal.client_id}"
    client = scope.get("client")
    return f"ip:{client[0] if client else 'unknown'}"
