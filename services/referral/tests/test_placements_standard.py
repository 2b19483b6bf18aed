"""The Placements Data Standard v2 mapping, as specifications of the pure domain (issue 12)."""
from __future__ import annotations

import pytest

from libs.common.vocabulary import NEEDS_AND_RISKS, expand_deprecated
from services.referral.domain import placements_standard as ps

ENTITIES = {"PlacementAvailability": 4, "PlacementRequirements": 8, "PlacementRecommendation": 3, "Risks": 13,
            "ActualPlacement": 7, "QualityAssurance": 6}


def test_the_mapping_holds_the_standards_41_fields_each_with_a_home():
    assert len(ps.FIELDS) == 41 == len(ps.BY_NAME)
    assert {e: sum(1 for f in ps.FIELDS if f.entity == e) for e in ENTITIES} == ENTITIES
    assert {f.name for f in ps.FIELDS if f.must and f.entity == "PlacementRequirements"} >= {"livingCompanions", "pets"}
    homes = [f.ours for f in ps.FIELDS if f.kind != "risk"]
    assert len(homes) == len(set(homes))  # no two fields share a home: nothing is folded away
    for f in ps.FIELDS:
        if f.risk_code:
            assert f.risk_code in NEEDS_AND_RISKS, f.name


def _every_option_blocks() -> list[dict]:
    """Enough blocks that every option of every categorical field appears in one of them."""
    categorical = [f for f in ps.FIELDS if f.options]
    n = max(len(f.options) for f in categorical)
    blocks = []
    for i in range(n):
        block: dict = {"childId": 1000 + i, "siblingCount": i % 3, "homeAdaptation": bool(i % 2),
                       "deprivationOfLiberty": not i % 2, "riskOther": "other worry", "riskToOthersOther": "another",
                       "totalWeeklyCost": 5200 + i, "placementLocation": "Leicester", "preferabilityLocation": True,
                       "educationContinuity": False, "providerURN": "SC123456", "siblingsPlacedTogether": 0,
                       "preferredLocation": "near school", "referralOfficerName": "A", "referralDate": "2026-11-01",
                       "placementOfficerName": "B", "placementDate": "2026-11-02", "costOfficerName": "C",
                       "costDate": "2026-11-03"}
        for f in categorical:
            options = list(f.options)
            block[f.name] = [options[i % len(options)]] if f.kind == "categorical_many" else options[i % len(options)]
        blocks.append(block)
    return blocks


@pytest.mark.parametrize("block", _every_option_blocks())
def test_every_option_round_trips_to_our_model_and_back(block):
    intake = ps.to_ours(block)
    back = ps.to_standard(intake.placement_request, set(intake.risks_present), set(intake.no_known_risks))
    assert {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in back.items()} == block
    assert intake.child_ref == str(block["childId"])
    assert intake.placement_request["actual_placement"]["weekly_cost_pence"] == block["totalWeeklyCost"] * 100


def test_the_blocks_cover_every_option():
    blocks = _every_option_blocks()
    for f in ps.FIELDS:
        if f.options:
            seen = {v for b in blocks for v in (b[f.name] if isinstance(b[f.name], list) else [b[f.name]])}
            assert seen == set(f.options), f.name


def test_a_risk_not_sent_is_not_asked_and_no_known_risk_is_recorded():
    intake = ps.to_ours({"childId": 1, "livingCompanions": "No preference", "pets": "Yes - can",
                         "riskSelfHarm": "No known risk", "riskMissing": "Risk Present"})
    assert intake.risks_present == ("missing_episodes",) and intake.no_known_risks == ("self_harm",)
    back = ps.to_standard(intake.placement_request, {"missing_episodes"}, {"self_harm"})
    assert back["riskSelfHarm"] == "No known risk" and back["riskMissing"] == "Risk Present"
    assert "riskEatingDisorder" not in back  # not asked


def test_needed_by_gives_the_urgency():
    for option, urgency in (("Today", "crisis"), ("in less than 5 days", "urgent"), ("in more than 5 days", "planned")):
        assert ps.to_ours({"childId": 1, "neededBy": option}).urgency == urgency
    assert ps.to_ours({"childId": 1}).urgency is None


def test_an_option_is_matched_ignoring_case_and_anything_else_names_the_allowed_ones():
    assert ps.option_of("riskEatingDisorder", "Risk present") == "Risk Present"  # the prose's spelling
    assert ps.option_of("pets", " yes - MUST ") == "Yes - must"
    with pytest.raises(ps.StandardValueError) as caught:
        ps.option_of("pets", "Maybe")
    assert caught.value.field == "pets" and caught.value.rule == "standard_option" and caught.value.value == "Maybe"
    assert caught.value.allowed == ["Yes - must", "Yes - can", "No", "Not Known"]


def test_a_risk_both_present_and_of_no_known_risk_is_refused_naming_the_field():
    intake = ps.to_ours({"childId": 1, "riskSelfHarm": "No known risk"})
    with pytest.raises(ps.StandardValueError) as caught:
        ps.merge_risks([{"code": "self_harm", "severity": "high"}], [], intake)
    assert caught.value.field == "placements_standard.riskSelfHarm"
    with pytest.raises(ps.StandardValueError) as caught:
        ps.merge_risks([{"code": "trauma", "severity": "high"}], ["trauma"], None)
    assert caught.value.field == "no_known_risks"
    risks, none_known = ps.merge_risks([{"code": "missing_episodes", "severity": "high"}], [],
                                       ps.to_ours({"childId": 1, "riskMissing": "Risk Present",
                                                   "riskEatingDisorder": "Risk Present"}))
    assert risks == [{"code": "missing_episodes", "severity": "high"}, {"code": "eating_disorder", "severity": "medium"}]


def test_the_retired_exploitation_code_stands_for_both_of_its_successors():
    assert expand_deprecated([{"code": "exploitation_risk", "severity": "high"}, {"code": "trauma"}]) == [
        {"code": "sexual_exploitation_risk", "severity": "high"},
        {"code": "criminal_exploitation_risk", "severity": "high"}, {"code": "trauma"}]
    kept = [{"code": "criminal_exploitation_risk", "severity": "low"}, {"code": "exploitation_risk", "severity": "high"}]
    assert expand_deprecated(kept) == [{"code": "criminal_exploitation_risk", "severity": "low"},
                                       {"code": "sexual_exploitation_risk", "severity": "high"}]


def test_the_vocabulary_maps_each_option_to_our_code_and_back():
    fields = {f["field"]: f for f in ps.mapping()}
    back = ps.codes_to_standard()
    for f in ps.FIELDS:
        if f.kind in ("categorical", "categorical_many"):
            for option in fields[f.name]["options"]:
                assert back[f.ours][option["code"]] == {"field": f.name, "option": option["option"]}
        if f.risk_code:
            assert back["risks"][f.risk_code]["field"] == f.name
    assert ps.requirements_of({"living_companions": "solo", "suitability": {"residential_care": "unsuitable"},
                               "preferred_location": "free text"}) == {
        "living_companions": "solo", "pets": None, "deprivation_of_liberty": None, "sibling_count": None,
        "communication_needs": None, "home_adaptation": None, "cultural_needs": None, "additional_support": None,
        "communication_requirements": [], "residential_care_suitability": "unsuitable"}
