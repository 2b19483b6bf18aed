"""The outcomes service's HTTP API: one module per resource, and its domain errors mapped to problems once.

sdq.py       the stateless SDQ scoring call
measures.py  a placement's measurement points, measures and progress; recording measures
journeys.py  journey comparison (total cost of care) and a placement's actual journey
reports.py   cohort progress and the sufficiency report
outreach.py  the outreach evidence report (return on investment) and each council's assumed breakdown cost
"""
from libs.common.errors import PROBLEM_BASE, Conflict, ProblemError, field_problem

from ..domain.errors import OutcomeError
from ..domain.outreach import SettingError
from ..service import AlreadyRecorded, Forbidden
from . import journeys, measures, outreach, reports, sdq

ROUTERS = [sdq.router, measures.router, journeys.router, reports.router, outreach.router]

PROBLEMS = {
    OutcomeError: lambda exc: field_problem(exc.field, exc.rule, str(exc)),
    SettingError: lambda exc: field_problem(exc.field, exc.rule, str(exc)),
    Forbidden: lambda exc: ProblemError(403, "Forbidden", str(exc.__doc__), type_=PROBLEM_BASE + "forbidden"),
    AlreadyRecorded: lambda exc: Conflict(str(exc), field=f"body.{exc.group}", rule="once_per_point"),
}

__all__ = ["ROUTERS", "PROBLEMS"]
