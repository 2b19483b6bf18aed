"""Journey costing: weekly, daily and one-off rates; months as weeks_per_month weeks; a stated total that does
not match is flagged with the difference and never replaces the computed one."""
from __future__ import annotations

import pytest

from services.outcomes.domain.errors import OutcomeError
from services.outcomes.domain.journeys import compare

RESI = {"setting": "Residential Placement (out of county)", "length": 7, "unit": "month", "rate": "4900.00",
        "rate_per": "week", "stated_total": "137200.00"}


def test_months_are_four_weeks_and_a_matching_stated_total_is_not_flagged():
    out = compare({"weeks_per_month": 4, "actual": [RESI], "alternative": [RESI]})
    line = out["actual"]["segments"][0]
    assert line["weeks"] == "28" and line["computed_total"] == "137200.00"
    assert line["mismatch"] is False and line["difference"] == "0.00"
    assert out["difference"] == {"computed": "0.00", "stated": "0.00", "computed_reading": "none",
                                 "stated_reading": "none"}


def test_weekly_daily_and_one_off_rates_and_a_mismatch_flagged_not_replaced():
    actual = [
        {"setting": "Residential Placement (out of county)", "length": 7, "unit": "month", "rate": "4900.00",
         "stated_total": "140000.00"},                                               # rate_per defaults to week
        {"setting": "Secure welfare", "length": 10, "unit": "day", "rate": "1200.00", "rate_per": "day",
         "stated_total": None},
        {"setting": "Emergency transport", "length": 1, "unit": "one_off", "rate": "850.00", "rate_per": "one_off",
         "stated_total": "850.00"},
    ]
    alternative = [
        {"setting": "ITP Pathway Bed, Phase 1", "length": 28, "unit": "day", "rate": "5200.00", "rate_per": "week",
         "stated_total": "20800.00"},
        {"setting": "ITP Pathway Bed, Phase 2", "length": 6, "unit": "month", "rate": "3789.00",
         "stated_total": "90936.00"},
        {"setting": "Outreach", "length": 6, "unit": "week", "rate": "660.00", "stated_total": None},
    ]
    out = compare({"weeks_per_month": 4, "actual": actual, "alternative": alternative})
    a = out["actual"]
    assert [l["computed_total"] for l in a["segments"]] == ["137200.00", "12000.00", "850.00"]
    assert a["segments"][0]["mismatch"] is True and a["segments"][0]["difference"] == "2800.00"
    assert a["segments"][0]["stated_total"] == "140000.00"
    assert a["mismatched_lines"] == [1]
    assert a["computed_total"] == "150050.00"          # the computed figure, never the stated one
    assert a["stated_total"] == "152850.00"            # stated where given, computed where not
    b = out["alternative"]
    assert [l["computed_total"] for l in b["segments"]] == ["20800.00", "90936.00", "3960.00"]
    assert b["computed_total"] == "115696.00" and b["mismatched_lines"] == []
    # actual minus alternative: the pathway's journey avoids 34354.00 (37154.00 on the stated figures)
    assert out["difference"]["computed"] == "34354.00" and out["difference"]["computed_reading"] == "avoided"
    assert out["difference"]["stated"] == "37154.00" and out["difference"]["stated_reading"] == "avoided"
    out = compare({"weeks_per_month": 4, "actual": alternative, "alternative": actual})
    assert out["difference"]["computed"] == "-34354.00" and out["difference"]["computed_reading"] == "added"


def test_weeks_per_month_is_honoured():
    out = compare({"weeks_per_month": "4.33", "actual": [{**RESI, "length": 1, "stated_total": None}],
                   "alternative": [RESI]})
    assert out["actual"]["segments"][0]["computed_total"] == "21217.00"


@pytest.mark.parametrize("bad,field,rule", [
    ({"unit": "fortnight"}, "body.actual.0.unit", "unit"),
    ({"rate": "49OO"}, "body.actual.0.rate", "decimal_string"),
    ({"rate": "-1"}, "body.actual.0.rate", "non_negative"),
    ({"rate_per": "one_off"}, "body.actual.0.rate_per", "one_off_pairs"),
    ({"setting": ""}, "body.actual.0.setting", "setting_required"),
    ({"rate": "NaN"}, "body.actual.0.rate", "decimal_string"),
    ({"rate": 1e308, "length": 1e308}, "body.actual.0.length", "too_large"),   # was a 500 (decimal overflow)
    ({"rate": "1000000000.01"}, "body.actual.0.rate", "too_large"),
    ({"stated_total": "1e30"}, "body.actual.0.stated_total", "too_large"),
])
def test_bad_segments_name_the_field_and_the_rule(bad, field, rule):
    with pytest.raises(OutcomeError) as e:
        compare({"actual": [{**RESI, **bad}], "alternative": [RESI]})
    assert (e.value.field, e.value.rule) == (field, rule)


def test_weeks_per_month_is_bounded():
    with pytest.raises(OutcomeError) as e:
        compare({"weeks_per_month": "1e308", "actual": [RESI], "alternative": [RESI]})
    assert (e.value.field, e.value.rule) == ("body.weeks_per_month", "too_large")
