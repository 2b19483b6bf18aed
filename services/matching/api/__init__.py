"""Matching's HTTP API: one module per resource, and its domain errors mapped to problems once.

homes.py        spoke homes: onboarding, the checklist, going live, suspension, changes, beds, residents
impact_risk.py  GET /v1/referrals/{id}/matches: the impact risk assessment ranking homes for a referral
admissions.py   the hub's decisions (accept reserves the Pathway Bed, decline carries a coded reason)
"""
from libs.common.errors import Conflict, ProblemError, field_problem

from ..service import Invalid, Refused
from . import admissions, homes, impact_risk

ROUTERS = [homes.router, impact_risk.router, admissions.router]


def _refused(exc: Refused) -> ProblemError:
    return Conflict(exc.detail, **exc.extra)


PROBLEMS = {
    Refused: _refused,
    Invalid: lambda exc: field_problem(exc.field, exc.rule, exc.message),
}

__all__ = ["ROUTERS", "PROBLEMS"]
