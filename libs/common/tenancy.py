"""Council tenancy in one place: every read starts from a statement already narrowed to what the
caller may see. Another council's record is simply not there (404), never forbidden (403)."""
from __future__ import annotations

from sqlalchemy import Select

from .auth import Principal


def readable(stmt: Select, principal: Principal, la_column) -> Select:
    if principal.is_council:
        return stmt.where(la_column == principal.la_code)
    return stmt
