"""The assessment API: /v1/placements, /v1/plans, /v1/reviews, /v1/deadlines, one module per resource.
The child's time in the home, from arrival through Phase 1 and Phase 2 to the ending. Councils read their
own children (placements:read, plans:read); the hub's roles write (a home manager only in their homes).

ROUTERS is what app.py mounts; PROBLEMS maps the service's domain errors to problem documents, once for
the whole app (routes never catch them)."""

from libs.common.errors import Conflict, ProblemError, field_problem
from libs.common.pagination import InvalidCursor

from .. import service
from ..domain.ending import InvalidEnding
from ..domain.placement import IllegalMove, InvalidDate, ReasonRequired
from ..domain.ssda903 import InvalidEpisode
from ..domain.plan import PlanNotReady
from ..domain import intervention
from . import deadlines, interventions, placements, plans, reviews, tasks

# placements first: /v1/placements/ending-codes must come before /v1/placements/{placement_id}
ROUTERS = [placements.router, tasks.router, plans.router, reviews.router, deadlines.router, interventions.router]


def _illegal_move(exc: IllegalMove) -> ProblemError:
    return Conflict(str(exc), current_status=exc.current.value, wanted_move=exc.wanted.value,
                    allowed_moves=exc.allowed)


PROBLEMS = {
    service.PlanConflict: lambda exc: Conflict(str(exc), **exc.extra),
    IllegalMove: _illegal_move,
    InvalidDate: lambda exc: field_problem(f"body.{exc.field}", "date_in_order", str(exc)),
    ReasonRequired: lambda exc: field_problem("body.reason", "reason_required", str(exc)),
    InvalidEnding: lambda exc: field_problem(f"body.{exc.field}", exc.rule, str(exc)),
    InvalidEpisode: lambda exc: field_problem(f"body.{exc.field}", exc.rule, str(exc)),
    PlanNotReady: lambda exc: field_problem("body.sections", "sections_written", str(exc)),
    intervention.IllegalMove: lambda exc: Conflict(str(exc), current_status=exc.current.value, wanted_move=exc.wanted,
                                                   allowed_moves=exc.allowed),
    intervention.InvalidIntervention: lambda exc: field_problem(exc.field, exc.rule, str(exc)),
    InvalidCursor: lambda exc: field_problem("query.cursor", "cursor", "not a cursor from this listing"),
}

__all__ = ["ROUTERS", "PROBLEMS"]
