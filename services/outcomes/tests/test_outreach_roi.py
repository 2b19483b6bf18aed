"""The outreach report's rules (domain/outreach.py) and the step-down rule's evidence (domain/progress.py)."""
from datetime import date

import pytest

from services.outcomes.domain import outreach
from services.outcomes.domain.progress import step_down_evidence, step_down_holds


def follow(cp, held):
    return {"checkpoint": cp, "held": held}


def test_a_breakdown_at_a_checkpoint_breaks_every_later_one_and_unrecorded_ones_are_pending():
    it = {"outcome": "stabilised"}
    assert outreach.checkpoints(it, [follow("6_weeks", True)]) == {
        "6_weeks": "held", "3_months": "pending", "6_months": "pending"}
    assert outreach.checkpoints(it, [follow("6_weeks", False), follow("3_months", True)]) == {
        "6_weeks": "broke", "3_months": "broke", "6_months": "broke"}
    assert outreach.placement_state({"outcome": "breakdown"}, {"6_weeks": "pending"}) == "broken_down"
    assert outreach.placement_state(it, {"6_weeks": "pending", "3_months": "pending"}) == "open"


def test_return_on_investment_is_costs_avoided_less_fees_over_fees():
    rows = [outreach.intervention_row({"intervention_id": "i1", "referral_id": "r1", "la_code": "E1", "team_id": "t",
                                       "basis": "fixed_fee", "current_setting": None, "start_date": date(2026, 1, 1),
                                       "end_date": None, "status": "closed", "outcome": "stabilised",
                                       "stabilised_on": date(2026, 1, 15)},
                                      [follow("6_weeks", True)], 1_000_000, 6, 5_000_000, None)]
    fig = outreach.figures(rows)
    assert (fig["fees_paid"], fig["breakdown_costs_avoided"], fig["net_saving"], fig["return_on_investment"]) == (
        "10000.00", "50000.00", "40000.00", "4.00")
    assert fig["median_days_to_stabilise"] == "14.0"
    assert outreach.figures([])["return_on_investment"] is None


@pytest.mark.parametrize("value,rule", [("abc", "decimal"), ("1.001", "decimal"), ("0", "range"),
                                        ("1000000.01", "range"), ("NaN", "decimal"),
                                        ("1e30", "range"), ("-1e30", "range")])  # 1e30 was a 500 (quantize)
def test_a_breakdown_cost_is_positive_pounds_with_pence(value, rule):
    with pytest.raises(outreach.SettingError) as err:
        outreach.parse_cost(value)
    assert err.value.rule == rule
    assert outreach.parse_cost("50000.00") == 5_000_000


def test_a_step_down_holds_by_time_or_by_a_later_follow_up_and_breaks_on_a_re_referral_or_a_follow_up():
    end, today = date(2026, 1, 10), date(2026, 3, 1)
    assert step_down_holds(end, [], today, 3) == "pending"
    assert step_down_holds(end, [], date(2026, 4, 10), 3) == "held"
    assert step_down_holds(end, [date(2026, 2, 1).toordinal()], today, 3) == "broke"
    assert step_down_holds(end, [date(2026, 5, 1).toordinal()], date(2026, 6, 1), 3) == "held"  # after 3 months
    placement = {"end_date": end}
    moved = step_down_evidence(placement, [{"timepoint": "follow_up_3_months", "recorded_on": date(2026, 2, 20),
                                            "stability": {"placement_moves": 1}}], [])
    assert step_down_holds(end, [], today, 3, moved) == "broke"
    outreach_held = step_down_evidence(placement, [], [{"recorded_on": date(2026, 4, 11), "held": True,
                                                        "breakdown_date": None}])
    assert step_down_holds(end, [], date(2026, 4, 11), 3, outreach_held) == "held"
    assert step_down_holds(end, [], date(2026, 4, 11), 6, outreach_held) == "pending"
    broke = step_down_evidence(placement, [], [{"recorded_on": date(2026, 9, 1), "held": False,
                                                "breakdown_date": date(2026, 8, 1)}])
    assert [step_down_holds(end, [], date(2026, 9, 1), m, broke) for m in (3, 6, 12)] == ["held", "held", "broke"]
