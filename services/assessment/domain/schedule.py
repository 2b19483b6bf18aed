"""What falls due when. Pure.

- Phase 1 runs from day 1 to day 28; the Initial Pathway Plan is due by day 28 and Phase 2
  normally starts on day 29.
- The foundation tasks of Phase 1, each with a due date and an owner.
- The provider's plan reviews: the 90-day review is mandatory (due on day 90), then one every
  6 months after it.
- The council's own statutory reviews of the child's care plan (Care Planning, Placement and Case
  Review (England) Regulations 2010, reg. 33): the first within 20 working days of the placement
  starting, the second within 3 months of the first, then every 6 months.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .calendar import add_months, add_working_days, day_of

PHASE_1_DAYS = 28
PLAN_DUE_DAY = 28
NINETY_DAY_REVIEW_DAY = 90
LATER_REVIEW_MONTHS = 6


@dataclass(frozen=True)
class FoundationTask:
    code: str
    label: str
    due_day: int          # due by the end of this day of the placement (day 1 = arrival)
    owner: str            # the role that owns it by default


# The foundations of Phase 1 (domain.md, "Phase 1"). The safety and risk plan and the soft landing
# belong to the first 72 hours (day 3); the baselines and the network map feed the Initial Pathway
# Plan, so they are due well before day 28.
FOUNDATION_TASKS: tuple[FoundationTask, ...] = (
    FoundationTask("key_worker_assigned", "Key worker assigned", 1, "registered_manager"),
    FoundationTask("soft_landing", "Soft-landing period (first 48-72 hours)", 3, "key_worker"),
    FoundationTask("safety_and_risk_plan", "Safety and risk plan (first 72 hours)", 3, "registered_manager"),
    FoundationTask("professional_network_map", "Map of the professional network", 14, "key_worker"),
    FoundationTask("education_baseline", "Education baseline", 20, "education_coordinator"),
    FoundationTask("health_baseline", "Health baseline", 20, "therapeutic_lead"),
)
TASKS_BY_CODE = {t.code: t for t in FOUNDATION_TASKS}


def task_due(arrival: date, task: FoundationTask) -> date:
    return day_of(arrival, task.due_day)


def phase_1_planned_end(arrival: date) -> date:
    """The last day of Phase 1 when it is not extended (day 28)."""
    return day_of(arrival, PHASE_1_DAYS)


def plan_due(arrival: date) -> date:
    return day_of(arrival, PLAN_DUE_DAY)


def plan_is_late(arrival: date, issued_on: date | None, today: date) -> bool:
    due = plan_due(arrival)
    return issued_on > due if issued_on is not None else today > due


def review_due(arrival: date, number: int) -> date:
    """The due date of the provider's n-th plan review (1 = the 90-day review)."""
    if number < 1:
        raise ValueError("reviews are numbered from 1")
    first = day_of(arrival, NINETY_DAY_REVIEW_DAY)
    return add_months(first, LATER_REVIEW_MONTHS * (number - 1))


def review_kind(number: int) -> str:
    return "90_day" if number == 1 else "six_monthly"


def statutory_reviews(placement_start: date, count: int = 4) -> list[date]:
    """The latest dates of the council's first `count` statutory reviews."""
    if count < 1:
        return []
    dates = [add_working_days(placement_start, 20)]
    if count > 1:
        dates.append(add_months(dates[0], 3))
    while len(dates) < count:
        dates.append(add_months(dates[-1], 6))
    return dates
