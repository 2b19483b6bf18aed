"""Measurement points: baseline, day 28, the 90-day review, every 6 months, the ending; states by date."""
from __future__ import annotations

from datetime import date

from services.outcomes.domain import progress, timepoints


def test_points_of_a_running_and_an_ended_placement():
    arrival = date(2025, 1, 1)
    running = timepoints.points(arrival, None, date(2026, 1, 10))
    assert running == [("baseline", date(2025, 1, 7)), ("day_28", date(2025, 1, 28)), ("day_90", date(2025, 3, 31)),
                       ("six_monthly_1", date(2025, 9, 30)), ("six_monthly_2", date(2026, 3, 31))]
    ended = timepoints.points(arrival, date(2025, 3, 1), date(2026, 1, 10))
    assert ended == [("baseline", date(2025, 1, 7)), ("day_28", date(2025, 1, 28)), ("ending", date(2025, 3, 15))]


def test_states():
    due = date(2025, 1, 28)
    assert timepoints.state(due, False, date(2025, 1, 24)) == "upcoming"
    assert timepoints.state(due, False, date(2025, 1, 25)) == "due_soon"
    assert timepoints.state(due, False, date(2025, 1, 29)) == "overdue"
    assert timepoints.state(due, True, date(2025, 1, 29)) == "met"


def test_step_down_holds():
    end = date(2025, 1, 31)
    assert progress.step_down_holds(end, [], date(2025, 4, 30), 3) == "held"
    assert progress.step_down_holds(end, [], date(2025, 4, 29), 3) == "pending"
    assert progress.step_down_holds(end, [date(2025, 3, 1).toordinal()], date(2026, 1, 1), 3) == "broke"
    assert progress.step_down_holds(end, [date(2025, 6, 1).toordinal()], date(2026, 1, 1), 3) == "held"
    assert progress.step_down_holds(end, [date(2025, 6, 1).toordinal()], date(2026, 1, 1), 6) == "broke"
