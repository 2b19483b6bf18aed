"""The Initial Pathway Plan and its later versions. Pure.

A plan is drafted and edited during Phase 1 and issued to the council as version 1 (due by day 28).
It is a living document: each completed review issues a new version; every version is kept.
"""
from __future__ import annotations

SECTIONS: tuple[str, ...] = (
    "needs_and_history_summary",
    "safety_and_risk_plan",
    "therapeutic_plan",
    "education_plan",
    "health_plan",
    "family_and_network",
    "step_down_goals",
)


class PlanNotReady(ValueError):
    """An issue of a plan with sections still empty."""

    def __init__(self, missing: list[str]):
        self.missing = missing
        super().__init__("sections still empty: " + ", ".join(missing))


def empty_sections() -> dict[str, str]:
    return {s: "" for s in SECTIONS}


def missing_sections(sections: dict[str, str]) -> list[str]:
    return [s for s in SECTIONS if not (sections.get(s) or "").strip()]


def check_ready(sections: dict[str, str]) -> None:
    missing = missing_sections(sections)
    if missing:
        raise PlanNotReady(missing)
