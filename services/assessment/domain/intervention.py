"""An outreach intervention: the hub's assessment and outreach team working with a child where the child lives
now, to stop the placement there breaking down (issue 16). Pure: no web or database imports.

    accepted --activate--> active --step_down--> stepping_down --close--> closed
    accepted --close (withdrawn only)--> closed        (the child never started)
    active --close--> closed

Every move has an effective date: never in the future, never before the previous move's. The activation's
effective date is the intervention's start (billing charges from it); the close's is its end. A close names
its outcome (stabilised, breakdown, withdrawn, moved_on); a stabilised one the day the placement was judged
stable (between the start and the end). Sessions are logged while it runs (active or stepping down), on a day
between the start and today. Follow-up checks of whether the placement held fall due 6 weeks, 3 months and
6 months after the end.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import Enum


class Status(str, Enum):
    accepted = "accepted"            # the hub accepted the outreach referral; the team has not started
    active = "active"                # the team works with the child and the people around the child
    stepping_down = "stepping_down"  # sessions taper off towards the close
    closed = "closed"


MOVES: dict[Status, tuple[Status, ...]] = {
    Status.accepted: (Status.active, Status.closed),
    Status.active: (Status.stepping_down, Status.closed),
    Status.stepping_down: (Status.closed,),
    Status.closed: (),
}

OUTCOMES = ("stabilised", "breakdown", "withdrawn", "moved_on")
WITH_WHOM = ("child", "carers", "school", "family", "social_worker", "other_professional")
GOALS = ("stabilise_placement", "school_attendance", "reduce_missing_episodes", "carer_support",
         "family_relationships", "emotional_regulation", "exploitation_safety", "transition_support",
         "health_engagement", "reduce_police_call_outs")
CHECKPOINTS = ("6_weeks", "3_months", "6_months")
EARLY_DAYS = 7          # a follow-up check may be recorded up to a week before it falls due
MAX_SESSION_MINUTES = 600
MAX_SESSIONS_PER_WEEK = 14


class IllegalMove(Exception):
    """The move is not allowed from the current status (the API answers 409 with the allowed moves)."""

    def __init__(self, current: Status | str, wanted: Status | str, detail: str | None = None):
        self.current = Status(current)
        self.wanted = str(getattr(wanted, "value", wanted))
        self.allowed = allowed_moves(self.current)
        super().__init__(detail or f"an intervention that is {self.current.value} cannot move to {self.wanted}")


class InvalidIntervention(ValueError):
    """A field the rules refuse: names the field (body.<name>) and the rule."""

    def __init__(self, field: str, rule: str, message: str):
        super().__init__(message)
        self.field = field
        self.rule = rule


def allowed_moves(status: Status | str) -> list[str]:
    return [s.value for s in MOVES[Status(status)]]


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it has fewer days)."""
    m = day.month - 1 + months
    year, month = day.year + m // 12, m % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def follow_up_due(end: date, checkpoint: str) -> date:
    if checkpoint == "6_weeks":
        return end + timedelta(weeks=6)
    if checkpoint == "3_months":
        return add_months(end, 3)
    if checkpoint == "6_months":
        return add_months(end, 6)
    raise InvalidIntervention("body.checkpoint", "checkpoint", f"one of {', '.join(CHECKPOINTS)}")


@dataclass(frozen=True)
class Plan:
    goals: tuple[str, ...]
    sessions_per_week: int

    def check(self) -> "Plan":
        if not self.goals:
            raise InvalidIntervention("body.goals", "at_least_one", "a plan has at least one goal")
        unknown = [g for g in self.goals if g not in GOALS]
        if unknown:
            raise InvalidIntervention("body.goals", "goal_code", f"goals are codes: one of {', '.join(GOALS)}")
        if len(set(self.goals)) != len(self.goals):
            raise InvalidIntervention("body.goals", "unique", "each goal once")
        if not 1 <= self.sessions_per_week <= MAX_SESSIONS_PER_WEEK:
            raise InvalidIntervention("body.sessions_per_week", "range",
                                      f"between 1 and {MAX_SESSIONS_PER_WEEK} sessions a week")
        return self


def default_plan(basis: str) -> Plan:
    """The plan an intervention starts with: an intensive six-week intervention meets three times a week,
    weekly outreach once or twice (the team revises it)."""
    return Plan(("stabilise_placement",), 3 if basis == "fixed_fee" else 2)


@dataclass(frozen=True)
class Intervention:
    status: Status = Status.accepted
    planned_start_date: date | None = None
    start_date: date | None = None        # the activation's effective date
    stepping_down_on: date | None = None
    end_date: date | None = None
    outcome: str | None = None
    stabilised_on: date | None = None

    def last_move_on(self) -> date | None:
        return self.end_date or self.stepping_down_on or self.start_date

    def move(self, to: Status | str, effective: date, today: date, *, outcome: str | None = None,
             stabilised_on: date | None = None) -> "Intervention":
        try:
            to = Status(to)
        except ValueError:
            raise IllegalMove(self.status, to) from None
        if to not in MOVES[self.status]:
            raise IllegalMove(self.status, to)
        if effective > today:
            raise InvalidIntervention("body.effective_date", "not_in_future",
                                      "a move is recorded when it has happened: not in the future")
        last = self.last_move_on()
        if last is not None and effective < last:
            raise InvalidIntervention("body.effective_date", "date_in_order",
                                      f"on or after the previous move ({last.isoformat()})")
        if to != Status.closed and (outcome is not None or stabilised_on is not None):
            raise InvalidIntervention("body.outcome", "closing_only", "an outcome is given when closing")
        if to == Status.active:
            return replace(self, status=to, start_date=effective)
        if to == Status.stepping_down:
            return replace(self, status=to, stepping_down_on=effective)
        # closing
        if outcome not in OUTCOMES:
            raise InvalidIntervention("body.outcome", "outcome", f"closing names the outcome: one of "
                                                                 f"{', '.join(OUTCOMES)}")
        if self.status == Status.accepted and outcome != "withdrawn":
            raise IllegalMove(self.status, to, "an intervention that never started closes only as withdrawn")
        if outcome == "stabilised":
            if stabilised_on is None:
                raise InvalidIntervention("body.stabilised_on", "required",
                                          "a stabilised intervention says when the placement was judged stable")
            if stabilised_on < self.start_date or stabilised_on > effective:
                raise InvalidIntervention("body.stabilised_on", "date_in_order",
                                          "between the start and the close")
        elif stabilised_on is not None:
            raise InvalidIntervention("body.stabilised_on", "stabilised_only",
                                      "only a stabilised intervention has a stabilised_on date")
        return replace(self, status=to, end_date=effective, outcome=outcome, stabilised_on=stabilised_on)

    # --- sessions and follow-ups ---------------------------------------------------------------------
    def check_session(self, on: date, minutes: int, with_whom: list[str], today: date) -> None:
        if self.status not in (Status.active, Status.stepping_down):
            raise IllegalMove(self.status, "log_session",
                              "sessions are logged while the intervention runs (active or stepping down)")
        if on > today or on < self.start_date:
            raise InvalidIntervention("body.session_date", "date_in_order",
                                      f"between the start ({self.start_date.isoformat()}) and today")
        if not 1 <= minutes <= MAX_SESSION_MINUTES:
            raise InvalidIntervention("body.minutes", "range", f"between 1 and {MAX_SESSION_MINUTES} minutes")
        if not with_whom:
            raise InvalidIntervention("body.with_whom", "at_least_one", "who the session was with, as codes")
        if any(w not in WITH_WHOM for w in with_whom) or len(set(with_whom)) != len(with_whom):
            raise InvalidIntervention("body.with_whom", "with_whom_code",
                                      f"each once, from {', '.join(WITH_WHOM)}")

    def check_follow_up(self, checkpoint: str, held: bool, recorded_on: date, breakdown_date: date | None,
                        today: date) -> date:
        """The checkpoint's due date, once the record is allowed."""
        if self.status != Status.closed:
            raise IllegalMove(self.status, "record_follow_up", "follow-up checks come after the close")
        due = follow_up_due(self.end_date, checkpoint)
        if recorded_on > today or recorded_on < self.end_date:
            raise InvalidIntervention("body.recorded_on", "date_in_order", "between the close and today")
        if recorded_on < due - timedelta(days=EARLY_DAYS):
            raise InvalidIntervention("body.recorded_on", "not_yet_due",
                                      f"the {checkpoint} check falls due on {due.isoformat()}")
        if held and breakdown_date is not None:
            raise InvalidIntervention("body.breakdown_date", "breakdown_only",
                                      "a placement that held has no breakdown date")
        if breakdown_date is not None and not (self.end_date <= breakdown_date <= recorded_on):
            raise InvalidIntervention("body.breakdown_date", "date_in_order",
                                      "between the close and the day the check was recorded")
        return due


def follow_ups_due(end: date | None) -> list[tuple[str, date]]:
    return [] if end is None else [(c, follow_up_due(end, c)) for c in CHECKPOINTS]
