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


# Every scope a client may hold, as the OAuth2 scheme of the OpenAPI document lists them (/docs' Authorize).
SCOPE_DESCRIPTIONS = {
    "referrals:write": "Refer a child, update and withdraw your referrals",
    "referrals:read": "Read your referrals",
    "placements:read": "Read placements and the home a child lives in",
    "placements:write": "Record arrivals, phases, step-down and endings",
    "plans:read": "Read pathway plans and reviews",
    "invoices:read": "Read invoices",
    "billing:write": "Manage contracts and fee periods",
    "outcomes:read": "Read outcome measures, journeys and reports",
    "outcomes:write": "Record outcome measures (homes)",
    "hub:all": "The hub: every operation of the hub's roles",
    "matches:read": "Read a referral's ranked matches (hub)",
    "homes:read": "Read homes and beds",
    "homes:write": "Onboard and manage homes and beds",
    "admissions:read": "Read admission decisions",
    "admissions:write": "Decide admissions",
    "audit:read": "Read the access log",
    "restrictions:write": "Record a restriction of processing on a child's record (the data protection officer)",
    "restrictions:read": "Read a child's record's restrictions of processing",
    "webhooks:manage": "Register and manage your webhook endpoints",
}
