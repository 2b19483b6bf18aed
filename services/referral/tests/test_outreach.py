"""Outreach referrals' rules (domain/outreach.py): the outreach fields belong to outreach, and a step-down's
handoff becomes an outreach referral for the same child. Pure: no database."""
from __future__ import annotations

from datetime import date

import pytest

from services.referral.domain.outreach import FieldRule, Handoff, check_at_risk, check_kind, handoff_referral


def test_outreach_fields_on_a_bed_referral_are_refused_naming_the_field():
    with pytest.raises(FieldRule) as refused:
        check_kind("bed", {"current_setting": None, "at_risk": ["school_place"]})
    assert (refused.value.field, refused.value.rule) == ("body.at_risk", "outreach_only")
    check_kind("bed", {"current_setting": None, "at_risk": [], "outreach_basis": None})


def test_an_outreach_referral_says_where_the_child_lives():
    with pytest.raises(FieldRule) as refused:
        check_kind("outreach", {"at_risk": ["placement_breakdown"]})
    assert refused.value.rule == "required_for_outreach" and "foster_care" in refused.value.message
    check_kind("outreach", {"current_setting": "hospital"})


def test_at_risk_codes_come_from_the_vocabulary_each_once():
    check_at_risk(["placement_breakdown", "school_place"])
    with pytest.raises(ValueError, match="unknown code"):
        check_at_risk(["the dog"])
    with pytest.raises(ValueError, match="more than once"):
        check_at_risk(["school_place", "school_place"])


def test_a_handoff_opens_an_outreach_referral_for_the_same_child():
    source = dict(la_code="E10000018", child_ref="LCC-1", date_of_birth=date(2010, 1, 2), sex="female",
                  legal_status="C2", category_of_need="N1", needs=[{"code": "trauma", "severity": "high"}],
                  risks=[], social_worker={"name": "S", "email": "s@x.gov.uk"}, summary="free text, not copied")
    row = handoff_referral(source, Handoff(placement_id="p1", end_date=date(2026, 12, 1), basis="weekly",
                                           planned_weeks=26, setting="other_residential", outward_code="NG7"))
    assert row["kind"] == "outreach" and row["handoff_from_placement_id"] == "p1"
    assert (row["la_code"], row["child_ref"], row["date_of_birth"]) == ("E10000018", "LCC-1", date(2010, 1, 2))
    assert row["current_setting"] == "other_residential" and row["home_outward_code"] == "NG7"
    assert row["outreach_basis"] == "weekly" and row["outreach_planned_weeks"] == 26
    assert row["wanted_start_date"] == date(2026, 12, 1) and row["summary"] is None
