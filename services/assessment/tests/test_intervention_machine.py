"""The outreach intervention's state machine (pure): moves, dates, outcomes, sessions and follow-up checks."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.assessment.domain.intervention import (IllegalMove, Intervention, InvalidIntervention, Plan, Status,
                                                      add_months, allowed_moves, follow_up_due, follow_ups_due)

TODAY = date(2026, 6, 30)
START = date(2026, 3, 2)


def running() -> Intervention:
    return Intervention(planned_start_date=START).move("active", START, TODAY)


def test_the_happy_path_runs_accepted_active_stepping_down_closed():
    i = running()
    assert (i.status, i.start_date) == (Status.active, START)
    i = i.move("stepping_down", START + timedelta(days=35), TODAY)
    assert allowed_moves(i.status) == ["closed"]
    i = i.move("closed", START + timedelta(days=42), TODAY, outcome="stabilised", stabilised_on=START + timedelta(days=30))
    assert (i.status, i.end_date, i.outcome) == (Status.closed, START + timedelta(days=42), "stabilised")
    assert allowed_moves(i.status) == []


@pytest.mark.parametrize("status,to", [(Status.accepted, "stepping_down"), (Status.stepping_down, "active"),
                                       (Status.closed, "active"), (Status.active, "accepted"), (Status.active, "nope")])
def test_moves_the_machine_does_not_have_are_illegal(status, to):
    with pytest.raises(IllegalMove) as exc:
        Intervention(status=status, start_date=START).move(to, START, TODAY)
    assert exc.value.allowed == allowed_moves(status)


def test_dates_are_never_in_the_future_nor_before_the_previous_move():
    with pytest.raises(InvalidIntervention) as exc:
        Intervention().move("active", TODAY + timedelta(days=1), TODAY)
    assert (exc.value.field, exc.value.rule) == ("body.effective_date", "not_in_future")
    with pytest.raises(InvalidIntervention) as exc:
        running().move("stepping_down", START - timedelta(days=1), TODAY)
    assert exc.value.rule == "date_in_order"


def test_a_close_names_its_outcome_and_a_stabilised_one_its_day():
    with pytest.raises(InvalidIntervention) as exc:
        running().move("closed", TODAY, TODAY)
    assert (exc.value.field, exc.value.rule) == ("body.outcome", "outcome")
    with pytest.raises(InvalidIntervention) as exc:
        running().move("closed", TODAY, TODAY, outcome="stabilised")
    assert (exc.value.field, exc.value.rule) == ("body.stabilised_on", "required")
    with pytest.raises(InvalidIntervention) as exc:
        running().move("closed", TODAY, TODAY, outcome="stabilised", stabilised_on=START - timedelta(days=1))
    assert exc.value.rule == "date_in_order"
    with pytest.raises(InvalidIntervention) as exc:
        running().move("closed", TODAY, TODAY, outcome="breakdown", stabilised_on=START)
    assert exc.value.rule == "stabilised_only"
    with pytest.raises(InvalidIntervention) as exc:
        Intervention().move("active", START, TODAY, outcome="stabilised")
    assert exc.value.rule == "closing_only"


def test_an_intervention_that_never_started_closes_only_as_withdrawn():
    with pytest.raises(IllegalMove):
        Intervention().move("closed", START, TODAY, outcome="breakdown")
    closed = Intervention().move("closed", START, TODAY, outcome="withdrawn")
    assert (closed.status, closed.start_date, closed.end_date) == (Status.closed, None, START)


def test_sessions_are_logged_while_it_runs_with_codes_between_the_start_and_today():
    i = running()
    i.check_session(START, 90, ["child", "carers"], TODAY)
    for day, minutes, whom, field, rule in [
            (START - timedelta(days=1), 60, ["child"], "body.session_date", "date_in_order"),
            (TODAY + timedelta(days=1), 60, ["child"], "body.session_date", "date_in_order"),
            (START, 0, ["child"], "body.minutes", "range"),
            (START, 60, [], "body.with_whom", "at_least_one"),
            (START, 60, ["child", "child"], "body.with_whom", "with_whom_code"),
            (START, 60, ["auntie"], "body.with_whom", "with_whom_code")]:
        with pytest.raises(InvalidIntervention) as exc:
            i.check_session(day, minutes, whom, TODAY)
        assert (exc.value.field, exc.value.rule) == (field, rule)
    with pytest.raises(IllegalMove):
        Intervention().check_session(START, 60, ["child"], TODAY)


def test_follow_ups_fall_due_six_weeks_three_and_six_months_after_the_close():
    end = date(2025, 11, 30)
    assert follow_ups_due(end) == [("6_weeks", date(2026, 1, 11)), ("3_months", date(2026, 2, 28)),
                                   ("6_months", date(2026, 5, 30))]
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29) and add_months(date(2025, 12, 15), 1) == date(2026, 1, 15)
    closed = running().move("closed", date(2026, 3, 20), TODAY, outcome="stabilised", stabilised_on=date(2026, 3, 10))
    due = follow_up_due(closed.end_date, "3_months")
    assert closed.check_follow_up("3_months", True, due, None, TODAY) == due
    with pytest.raises(InvalidIntervention) as exc:
        closed.check_follow_up("6_months", True, due, None, TODAY)
    assert exc.value.rule == "not_yet_due"
    with pytest.raises(InvalidIntervention) as exc:
        closed.check_follow_up("6_weeks", True, TODAY, date(2026, 5, 1), TODAY)
    assert exc.value.rule == "breakdown_only"
    with pytest.raises(IllegalMove):
        running().check_follow_up("6_weeks", True, TODAY, None, TODAY)


def test_a_plan_has_known_goal_codes_and_an_intensity():
    assert Plan(("stabilise_placement", "school_attendance"), 3).check().sessions_per_week == 3
    for plan, rule in [(Plan((), 2), "at_least_one"), (Plan(("make_friends",), 2), "goal_code"),
                       (Plan(("carer_support", "carer_support"), 2), "unique"), (Plan(("carer_support",), 0), "range")]:
        with pytest.raises(InvalidIntervention) as exc:
            plan.check()
        assert exc.value.rule == rule
