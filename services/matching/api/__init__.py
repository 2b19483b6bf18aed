"""Matching's HTTP API: one module per resource, and its domain errors mapped to problems once.

homes.py        spoke homes: onboarding, the checklist, going live, suspension, changes, beds, residents
impact_risk.py  GET /v1/referrals/{id}/matches: the impact risk assessment ranking homes for a referral
admissions.py   the hub's decisions (accept reserves the Pathway Bed, or for an outreach referral a place on an
                outreach team's caseload; decline carries a coded reason)
outreach_teams.py  the hub's outreach teams (issue 16): capacity, reach and specialisms instead of beds
"""
from libs.common.errors import Conflict, ProblemError, field_problem

from ..service import Invalid, Refused
from . import admissions, homes, impact_risk, outreach_teams

ROUTERS = [homes.router, impact_risk.router, admissions.router, outreach_teams.router]


def _refused(exc: Refused) -> ProblemError:
    return Conflict(exc.detail, **exc.extra)


PROBLEMS = {
    Refused: _refused,
    Invalid: lambda exc: field_problem(exc.field, exc.rule, exc.message),
}

__all__ = ["ROUTERS", "PROBLEMS"]
