"""Council tenancy in one place: every read starts from a statement already narrowed to what the
caller may see. Another council's record is simply not there (404), never forbidden (403)."""
from __future__ import annotations

from sqlalchemy import Select, bindparam

from .auth import Principal

CALLER_LA_CODE = "tenancy_la_code"


def readable(stmt: Select, principal: Principal, la_column) -> Select:
    if principal.is_council:
        return stmt.where(la_column == principal.la_code)
    return stmt


def readable_bound(stmt: Select, council: bool, la_column) -> Select:
    """readable() for a statement built once and run many times (a hot read: building a statement and its cache
    key each time cost more CPU than running it): for a council the caller's code is the bind parameter that
    tenancy_params(principal) gives when the statement runs. A council statement run without it fails; it never
    reads another council's rows."""
    return stmt.where(la_column == bindparam(CALLER_LA_CODE)) if council else stmt


def tenancy_params(principal: Principal) -> dict:
    """The bind parameters of a readable_bound() statement for this caller."""
    return {CALLER_LA_CODE: principal.la_code} if principal.is_council else {}
