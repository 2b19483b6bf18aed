"""The outcomes service's one domain error: a field and the rule it broke (answered 422 by the API)."""
from __future__ import annotations


class OutcomeError(ValueError):
    def __init__(self, field: str, rule: str, message: str):
        super().__init__(message)
        self.field = field
        self.rule = rule
