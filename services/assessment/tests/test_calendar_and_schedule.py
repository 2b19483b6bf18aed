"""Working days and the schedules, on real calendar facts (England's bank holidays)."""
from datetime import date

import holidays

from services.assessment.domain.calendar import add_months, add_working_days, day_number, is_working_day
from services.assessment.domain.schedule import (FOUNDATION_TASKS, plan_due, plan_is_late, review_due,
                                                 statutory_reviews, task_due)


def test_the_holidays_package_agrees_with_the_calendar_facts_the_tests_pin():
    eng = holidays.country_holidays("GB", subdiv="ENG", years=[2026, 2027])
    assert date(2026, 12, 25) in eng and date(2026, 12, 25).strftime("%a") == "Fri"
    assert date(2026, 12, 28) in eng and date(2026, 12, 28).strftime("%a") == "Mon"  # Boxing Day substitute
    assert date(2027, 3, 26) in eng and date(2027, 3, 29) in eng                      # Good Friday, Easter Monday


def test_christmas_2026_the_friday_and_the_substitute_monday_are_not_working_days():
    assert not is_working_day(date(2026, 12, 25))
    assert not is_working_day(date(2026, 12, 26))
    assert not is_working_day(date(2026, 12, 28))
    assert is_working_day(date(2026, 12, 24)) and is_working_day(date(2026, 12, 29))
    # Thu 24 Dec + 1 working day skips Fri 25, the weekend and Mon 28: Tue 29 Dec
    assert add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 29)


def test_easter_2027_good_friday_and_easter_monday_are_skipped():
    assert add_working_days(date(2027, 3, 25), 1) == date(2027, 3, 30)


def test_a_placement_starting_before_christmas_has_its_first_statutory_review_within_20_working_days():
    # Mon 14 Dec 2026: working days 15-18, 21-24 (8), 29-31 (11), then 1 Jan 2027 is a bank holiday:
    # 4-8 (16), 11-14 (20) -> Thu 14 Jan 2027
    first, second, third, fourth = statutory_reviews(date(2026, 12, 14))
    assert first == date(2027, 1, 14)
    assert second == date(2027, 4, 14)
    assert third == date(2027, 10, 14)
    assert fourth == date(2028, 4, 14)


def test_a_placement_starting_before_easter_counts_round_good_friday_and_easter_monday():
    # Mon 15 Mar 2027: 16-19 (4), 22-25 (8), [26 Good Friday], [29 Easter Monday], 30-31 (10),
    # 1-2 Apr (12), 5-9 (17), 12-14 (20) -> Wed 14 Apr 2027
    assert statutory_reviews(date(2027, 3, 15))[0] == date(2027, 4, 14)


def test_months_clamp_to_the_end_of_a_shorter_month():
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2027, 8, 31), 6) == date(2028, 2, 29)
    assert add_months(date(2027, 11, 15), 3) == date(2028, 2, 15)


def test_the_initial_pathway_plan_is_due_on_day_28_and_late_after_it():
    arrival = date(2027, 2, 1)
    assert day_number(arrival, arrival) == 1
    assert plan_due(arrival) == date(2027, 2, 28)
    assert not plan_is_late(arrival, None, date(2027, 2, 28))
    assert plan_is_late(arrival, None, date(2027, 3, 1))
    assert plan_is_late(arrival, date(2027, 3, 2), date(2027, 3, 5))
    assert not plan_is_late(arrival, date(2027, 2, 27), date(2027, 3, 5))


def test_the_90_day_review_falls_on_day_90_and_later_reviews_every_6_months():
    arrival = date(2027, 1, 1)
    assert review_due(arrival, 1) == date(2027, 3, 31)
    assert review_due(arrival, 2) == date(2027, 9, 30)
    assert review_due(arrival, 3) == date(2028, 3, 31)


def test_the_safety_and_risk_plan_is_due_within_72_hours():
    arrival = date(2027, 1, 1)
    due = {t.code: task_due(arrival, t) for t in FOUNDATION_TASKS}
    assert due["safety_and_risk_plan"] == date(2027, 1, 3)
    assert due["key_worker_assigned"] == arrival
    assert set(due) == {"key_worker_assigned", "soft_landing", "safety_and_risk_plan", "professional_network_map",
                        "education_baseline", "health_baseline"}
