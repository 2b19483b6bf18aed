"""The placement state machine: examples, then random command sequences (hypothesis)."""
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.assessment.domain.ending import (InvalidEnding, allowed_reason_codes, check_ending,
                                               REASON_EPISODE_CEASED)
from services.assessment.domain.placement import (IllegalMove, InvalidDate, Move, Placement, ReasonRequired, Status,
                                                  allowed_moves, history_is_contiguous)

TODAY = date(2027, 6, 1)


def arrived(on=date(2027, 1, 4)) -> Placement:
    return Placement().arrive(on, TODAY)


def test_phase_2_before_arrival_is_refused_with_the_allowed_moves():
    with pytest.raises(IllegalMove) as exc:
        Placement().transition_to_phase_2(date(2027, 2, 1), TODAY)
    assert exc.value.allowed == ["arrive"]


def test_a_second_ending_is_refused():
    ended = arrived().end(date(2027, 1, 20))
    with pytest.raises(IllegalMove) as exc:
        ended.end(date(2027, 1, 21))
    assert exc.value.current == Status.ended and exc.value.allowed == []


def test_phase_2_normally_starts_on_day_29_and_the_history_splits_there():
    p = arrived(date(2027, 1, 4))
    assert p.phase_1_end == date(2027, 1, 31)
    p2, backdated = p.transition_to_phase_2(date(2027, 2, 1), TODAY, reason="IPP issued late; effective day 29")
    assert backdated
    assert [(s.phase, s.start, s.end) for s in p2.history] == [
        ("phase_1", date(2027, 1, 4), date(2027, 2, 1)), ("phase_2", date(2027, 2, 1), None)]
    assert p2.phase_on(date(2027, 1, 31)) == "phase_1" and p2.phase_on(date(2027, 2, 1)) == "phase_2"
    assert p2.day_on(date(2027, 2, 1)) == 29
    assert p2.phase_on(date(2027, 1, 3)) == "pending"


def test_a_back_dated_transition_needs_a_reason():
    with pytest.raises(ReasonRequired):
        arrived().transition_to_phase_2(date(2027, 2, 1), TODAY)


def test_phase_2_waits_for_the_initial_pathway_plan():
    with pytest.raises(IllegalMove):
        arrived().transition_to_phase_2(date(2027, 2, 1), TODAY, "r", plan_issued=False)


def test_an_extension_of_phase_1_needs_a_reason_and_a_later_end():
    p = arrived(date(2027, 1, 4))
    with pytest.raises(ReasonRequired):
        p.extend_phase_1(date(2027, 4, 4), " ")
    with pytest.raises(InvalidDate):
        p.extend_phase_1(date(2027, 1, 20), "more assessment")
    p = p.extend_phase_1(date(2027, 4, 4), "CAMHS assessment outstanding")
    assert p.status == Status.phase_1 and p.phase_1_end == date(2027, 4, 4) and len(p.extensions) == 1


def test_the_leaving_day_is_in_no_phase():
    p = arrived(date(2027, 1, 4)).end(date(2027, 1, 10))
    assert p.phase_on(date(2027, 1, 9)) == "phase_1" and p.phase_on(date(2027, 1, 10)) == "ended"
    assert p.day_on(date(2027, 1, 10)) is None


def test_an_arrival_in_the_future_is_refused():
    with pytest.raises(InvalidDate):
        Placement().arrive(TODAY + timedelta(days=1), TODAY)


def test_a_step_down_names_a_destination_and_a_fitting_reason_code():
    check_ending("step_down", "return_home", "E4A")
    check_ending("step_down", "foster_care", "X1", "CARPL")
    check_ending("custody", None, "E9")
    with pytest.raises(InvalidEnding) as exc:
        check_ending("step_down", None, "E4A")
    assert exc.value.field == "destination"
    with pytest.raises(InvalidEnding) as exc:
        check_ending("breakdown", None, "E11")
    assert exc.value.field == "reason_code" and exc.value.rule == "reason_code_for_ending"
    with pytest.raises(InvalidEnding):
        check_ending("other", None, "E99")
    assert set(allowed_reason_codes("other", None)) == set(REASON_EPISODE_CEASED) - {"E11", "E12"}


# --- property tests -------------------------------------------------------------------------------
commands = st.lists(st.tuples(st.sampled_from(list(Move)), st.integers(-40, 400), st.booleans(), st.booleans()),
                    max_size=12)


@settings(max_examples=400, deadline=None)
@given(start=st.dates(date(2026, 1, 1), date(2027, 12, 31)), cmds=commands)
def test_random_command_sequences_never_reach_an_illegal_state(start, cmds):
    today = start + timedelta(days=200)
    p = Placement()
    for move, offset, with_reason, plan_issued in cmds:
        day = start + timedelta(days=offset)
        before = p
        try:
            if move == Move.arrive:
                p = p.arrive(day, today)
            elif move == Move.extend_phase_1:
                p = p.extend_phase_1(day, "reason" if with_reason else "")
            elif move == Move.transition_to_phase_2:
                p, _ = p.transition_to_phase_2(day, today, "reason" if with_reason else None, plan_issued=plan_issued)
            else:
                p = p.end(day)
        except IllegalMove as exc:
            assert move.value not in exc.allowed or move == Move.transition_to_phase_2
            assert p is before
        except (InvalidDate, ReasonRequired):
            assert p is before
        else:
            assert move.value in allowed_moves(before.status)
        assert history_is_contiguous(p), p
        assert p.status in Status
        if p.status == Status.ended:
            assert p.end_date is not None and p.phase_on(p.end_date) == "ended"
        if p.status != Status.pending:
            # every day from arrival to the end (or a year on) is in exactly one phase
            last = p.end_date or p.arrival_date + timedelta(days=365)
            d = p.arrival_date
            while d < last:
                assert sum(s.covers(d) for s in p.history) == 1
                d += timedelta(days=17)


@settings(max_examples=200, deadline=None)
@given(start=st.dates(date(2026, 1, 1), date(2027, 12, 31)), p2=st.integers(1, 300), end=st.integers(1, 300))
def test_phase_on_agrees_with_the_history_on_every_day(start, p2, end):
    p = Placement().arrive(start, start + timedelta(days=1000))
    # recorded on its day (a transition planned ahead starts by the day after Phase 1's planned end, day 29)
    p, _ = p.transition_to_phase_2(start + timedelta(days=p2), start + timedelta(days=p2), "planned")
    try:
        p = p.end(start + timedelta(days=p2 + end))
    except InvalidDate:
        pytest.fail("an end after the start of Phase 2 is always allowed")
    assert p.phase_on(start + timedelta(days=p2 - 1)) == "phase_1"
    assert p.phase_on(start + timedelta(days=p2)) == "phase_2"
    assert p.phase_on(start + timedelta(days=p2 + end)) == "ended"
    assert history_is_contiguous(p)


def test_an_arrival_falls_while_the_child_is_a_child_when_the_date_of_birth_is_known():
    """Back-dated arrivals are arrivals (a child already living in the home when the system came); a year-1 one, a
    typo of the year that every deadline and fee would then run from, is not (found probing the API's dates)."""
    born, today = date(2012, 3, 14), date(2026, 11, 30)
    assert Placement().arrive(date(2020, 5, 1), today, born=born).arrival_date == date(2020, 5, 1)
    assert Placement().arrive(born, today, born=born).arrival_date == born
    for typo in (date(1, 1, 1), date(202, 11, 23), born - timedelta(days=1)):
        with pytest.raises(InvalidDate, match="date of birth") as refused:
            Placement().arrive(typo, today, born=born)
        assert refused.value.field == "arrival_date"
    with pytest.raises(InvalidDate, match="18th birthday"):
        Placement().arrive(date(2030, 3, 14), date(2031, 1, 1), born=born)
    assert Placement().arrive(date(2030, 3, 13), date(2031, 1, 1), born=born).arrival_date == date(2030, 3, 13)
    assert Placement().arrive(date(1, 1, 1), today).arrival_date == date(1, 1, 1)  # the child not yet known here
    # born on 29 February: 18 on 1 March, in a year without one (the arrival on 28 February is still a child's)
    leap = date(2012, 2, 29)
    assert Placement().arrive(date(2030, 2, 28), date(2031, 1, 1), born=leap).arrival_date == date(2030, 2, 28)
    with pytest.raises(InvalidDate, match="18th birthday"):
        Placement().arrive(date(2030, 3, 1), date(2031, 1, 1), born=leap)


def test_phase_1_extends_within_a_year_and_a_phase_2_planned_ahead_starts_by_the_day_after_its_planned_end():
    """Typos of the year, found probing the API's dates: an extension to 9999-12-31 (the home's Pathway Bed and the
    plan's deadline held for ever) and a Phase 2 from 9999-12-31 (the child in Phase 2 at once, billed Phase 1 until
    then) were both recorded."""
    arrived = Placement().arrive(date(2026, 11, 2), date(2026, 11, 30))
    assert arrived.phase_1_end == date(2026, 11, 29)
    longest = arrived.extend_phase_1(date(2027, 11, 1), "a long assessment")  # day 365
    assert longest.phase_1_end == date(2027, 11, 1)
    for typo in (date(2027, 11, 2), date(9999, 12, 31)):
        with pytest.raises(InvalidDate, match="less than 365 days") as refused:
            arrived.extend_phase_1(typo, "typo")
        assert refused.value.field == "new_end_date"
    today = date(2026, 11, 20)  # day 19: a transition planned ahead
    assert arrived.transition_to_phase_2(date(2026, 11, 30), today)[0].status == Status.phase_2  # day 29
    with pytest.raises(InvalidDate, match="planned end") as refused:
        arrived.transition_to_phase_2(date(2026, 12, 1), today)
    assert refused.value.field == "effective_date"
    with pytest.raises(InvalidDate, match="planned end"):
        arrived.transition_to_phase_2(date(9999, 12, 31), today)
    extended = arrived.extend_phase_1(date(2027, 2, 1), "health assessment late")
    assert extended.transition_to_phase_2(date(2027, 2, 2), today)[0].status == Status.phase_2
    late = date(2027, 3, 1)  # Phase 1 ran past its planned end: a transition today or back-dated still goes
    assert arrived.transition_to_phase_2(late, late)[0].status == Status.phase_2
