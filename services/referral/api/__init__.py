"""The referral service's HTTP API: ROUTERS (mounted by app.py, in this order: the fixed path
/v1/referrals/vocabulary before /v1/referrals/{id}) and PROBLEMS (each domain error's answer, once)."""

from libs.common.errors import Conflict, ProblemError, field_problem
from libs.common.pagination import InvalidCursor

from ..domain.outreach import FieldRule
from ..domain.placements_standard import StandardValueError
from ..domain.referral import AgeOutsideRange
from ..domain.status import IllegalMove, Status, allowed_moves
from ..domain.restriction import RequestedInFuture
from ..service import Closed
from . import referrals, restrictions, vocabulary

ROUTERS = [vocabulary.router, referrals.router, restrictions.router]


def _illegal_move(exc: IllegalMove) -> ProblemError:
    wanted = getattr(exc.wanted, "value", exc.wanted)
    what = "be withdrawn" if wanted == Status.withdrawn.value else f"become {wanted}"
    return Conflict(f"A referral that is {exc.current.value} cannot {what}.", current_status=exc.current.value,
                    allowed_moves=exc.allowed)


PROBLEMS = {
    Closed: lambda exc: Conflict(f"A referral that is {exc.status} can no longer be changed.",
                                 current_status=exc.status, allowed_moves=allowed_moves(exc.status)),
    IllegalMove: _illegal_move,
    FieldRule: lambda exc: field_problem(exc.field, exc.rule, exc.message),
    AgeOutsideRange: lambda exc: field_problem("body.date_of_birth", "age_range", str(exc)),
    InvalidCursor: lambda exc: field_problem("query.cursor", "cursor", "not a cursor from this listing"),
    StandardValueError: lambda exc: field_problem(f"body.{exc.field}", exc.rule, str(exc), value=exc.value,
                                                  allowed=exc.allowed),
    RequestedInFuture: lambda exc: field_problem("body.requested_on", "not_in_future", str(exc)),
}

__all__ = ["ROUTERS", "PROBLEMS"]
