"""The pure rules of a referral: state machine, age, legal status, vocabulary, expiry.
(Idempotency-Key rules are libs.common.http's, tested there.)"""
from datetime import date, timedelta

import pytest
from hypothesis import given, strategies as st

from libs.common.vocabulary import NEEDS_AND_RISKS
from services.referral.domain.referral import (LEGAL_STATUSES, MAX_NEEDS, MAX_RISKS, AgeOutsideRange, InvalidLegalStatus,
                                               UnknownNeedOrRisk, age_on, check_age, check_legal_status,
                                               check_needs_or_risks, urgency_rank)
from services.referral.domain.status import (FINAL, OPEN, IllegalMove, Status, allowed_moves, expires_on, is_overdue,
                                             move)

statuses = st.sampled_from(list(Status))


# --- state machine -----------------------------------------------------------------------------------
def test_a_received_referral_may_be_assessed_decided_withdrawn_or_expired():
    assert allowed_moves("received") == ["accepted", "declined", "expired", "in_assessment", "withdrawn"]
    assert allowed_moves("in_assessment") == ["accepted", "declined", "expired", "withdrawn"]


@pytest.mark.parametrize("final", ["accepted", "declined", "withdrawn", "expired"])
def test_a_decided_referral_can_move_nowhere(final):
    assert allowed_moves(final) == []
    with pytest.raises(IllegalMove) as exc:
        move(final, "received")
    assert exc.value.allowed == []


def test_a_referral_never_goes_back_to_received():
    for status in Status:
        with pytest.raises(IllegalMove):
            move(status, Status.received)


@given(st.lists(statuses, max_size=12))
def test_any_sequence_of_moves_reaches_a_final_state_at_most_once_and_stays_there(wanted):
    current = Status.received
    reached_final = 0
    for to in wanted:
        try:
            new = move(current, to)
        except IllegalMove as exc:
            assert to.value not in exc.allowed
            continue
        assert to.value in allowed_moves(current)
        current = new
        reached_final += current in FINAL
    assert reached_final <= 1
    assert current in OPEN or current in FINAL


# --- age ---------------------------------------------------------------------------------------------
def test_the_age_range_is_inclusive_in_whole_years_on_the_start_date():
    start = date(2026, 11, 23)
    assert check_age(date(2018, 11, 23), start, 8, 17) == 8          # 8th birthday on the start day
    assert check_age(date(2008, 11, 24), start, 8, 17) == 17         # the day before the 18th birthday
    with pytest.raises(AgeOutsideRange):
        check_age(date(2018, 11, 24), start, 8, 17)                  # still 7
    with pytest.raises(AgeOutsideRange):
        check_age(date(2008, 11, 23), start, 8, 17)                  # 18 today
    with pytest.raises(AgeOutsideRange):
        check_age(date(2027, 1, 1), start, 8, 17)                    # not born yet


def test_a_leap_day_birthday_counts_from_the_first_of_march():
    assert age_on(date(2012, 2, 29), date(2025, 2, 28)) == 12
    assert age_on(date(2012, 2, 29), date(2025, 3, 1)) == 13


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 1, 1)),
       st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 1, 1)))
def test_age_grows_by_one_a_year_and_never_falls(born, on):
    if on < born:
        return
    age = age_on(born, on)
    assert age >= 0
    assert age_on(born, on + timedelta(days=1)) in (age, age + 1)
    assert age == on.year - born.year or age == on.year - born.year - 1


# --- codes -------------------------------------------------------------------------------------------
def test_the_looked_after_children_legal_status_codes_are_the_english_list():
    assert sorted(LEGAL_STATUSES) == ["C1", "C2", "D1", "E1", "J1", "J2", "J3", "L1", "L2", "L3", "V2", "V3", "V4"]
    assert check_legal_status("c2") == "C2"
    for bad in ("V1", "C3", "", "care order"):
        with pytest.raises(InvalidLegalStatus):
            check_legal_status(bad)


def test_the_vocabulary_holds_the_needs_and_risks_the_hub_works_with():
    wanted = {"sexual_exploitation_risk", "criminal_exploitation_risk", "exploits_others", "missing_episodes", "self_harm", "suicidal_ideation",
              "mental_health", "camhs_involvement", "neurodiversity", "learning_disability", "substance_misuse",
              "violence_to_others", "violence_to_staff", "sexualised_behaviour", "harmful_sexual_behaviour",
              "fire_setting", "youth_justice", "education_not_in_school", "ehcp", "trauma",
              "attachment_difficulties", "bullying_victim", "radicalisation_risk", "eating_disorder",
              "harm_to_animals", "criminal_risk_to_others", "other_risk_to_child", "other_risk_to_others"}
    assert wanted <= set(NEEDS_AND_RISKS)
    assert "exploitation_risk" not in NEEDS_AND_RISKS  # split in two (issue 12); still accepted, never stored
    assert all(t.label and t.code == code for code, t in NEEDS_AND_RISKS.items())


def test_unknown_or_repeated_needs_are_refused():
    check_needs_or_risks(["self_harm", "trauma"])
    with pytest.raises(UnknownNeedOrRisk, match="naughtiness"):
        check_needs_or_risks(["self_harm", "naughtiness"])
    with pytest.raises(UnknownNeedOrRisk, match="more than once"):
        check_needs_or_risks(["self_harm", "self_harm"])


def test_crisis_comes_before_urgent_before_planned():
    assert urgency_rank("crisis") < urgency_rank("urgent") < urgency_rank("planned")


def test_the_vocabulary_check_is_linear_and_its_message_does_not_grow_with_the_list():
    import time

    many = ["self_harm"] * 20_000 + ["trauma"] * 20_000
    started = time.perf_counter()
    with pytest.raises(UnknownNeedOrRisk, match="more than once: self_harm, trauma$"):
        check_needs_or_risks(many)
    assert time.perf_counter() - started < 0.5  # quadratic, this was minutes
    with pytest.raises(UnknownNeedOrRisk) as exc:
        check_needs_or_risks([f"code_{i}" for i in range(10_000)])
    assert "and 9995 more" in str(exc.value) and len(str(exc.value)) < 300


def test_a_valid_list_never_reaches_the_bound():
    # each code once, from a vocabulary smaller than the bound: the bound only refuses hostile bodies
    assert len(NEEDS_AND_RISKS) <= MAX_NEEDS and len(NEEDS_AND_RISKS) <= MAX_RISKS


# --- expiry ------------------------------------------------------------------------------------------
def test_an_open_referral_expires_a_set_time_after_its_wanted_start_date():
    received, wanted = date(2026, 11, 1), date(2026, 11, 10)
    assert expires_on(wanted, received, 14) == date(2026, 11, 24)
    assert not is_overdue("received", wanted, received, date(2026, 11, 23), 14)
    assert is_overdue("received", wanted, received, date(2026, 11, 24), 14)
    assert is_overdue("in_assessment", None, received, date(2026, 11, 15), 14)
    assert not is_overdue("accepted", wanted, received, date(2027, 1, 1), 14)
