"""Who can call the API: council clients (a tenant, by LA code) and the hub's roles."""
from __future__ import annotations

import re

HUB_ROLES = ("hub", "finance", "home_manager", "provider_admin")
LA_CODE = re.compile(r"^E\d{8}$")

# What a council's case-management system may do by default.
COUNCIL_SCOPES = ("referrals:write", "referrals:read", "placements:read", "plans:read", "invoices:read",
                  "outcomes:read", "webhooks:manage")


class InvalidClient(ValueError):
    pass


def check_client(la_code: str | None, role: str | None, scopes: list[str]) -> None:
    if bool(la_code) == bool(role):
        raise InvalidClient("a client is either a council (--la CODE) or a hub role (--role ROLE), not both")
    if la_code and not LA_CODE.match(la_code):
        raise InvalidClient(f"{la_code!r} is not an LA code such as E10000018")
    if role and role not in HUB_ROLES:
        raise InvalidClient(f"role must be one of {', '.join(HUB_ROLES)}")
    for scope in scopes:
        if not re.match(r"^[a-z_]+:[a-z_]+$", scope):
            raise InvalidClient(f"{scope!r} is not a scope such as referrals:read")
