"""The outcomes service's HTTP API: one module per resource, and its domain errors mapped to problems once.

sdq.py       the stateless SDQ scoring call
measures.py  a placement's measurement points, measures and progress; recording measures
journeys.py  journey comparison (total cost of care) and a placement's actual journey
reports.py   cohort progress and the sufficiency report
"""
from libs.common.errors import Conflict, field_problem

from ..domain.errors import OutcomeError
from ..service import AlreadyRecorded
from . import journeys, measures, reports, sdq

ROUTERS = [sdq.router, measures.router, journeys.router, reports.router]

PROBLEMS = {
    OutcomeError: lambda exc: field_problem(exc.field, exc.rule, str(exc)),
    AlreadyRecorded: lambda exc: Conflict(str(exc), field=f"body.{exc.group}", rule="once_per_point"),
}

__all__ = ["ROUTERS", "PROBLEMS"]
