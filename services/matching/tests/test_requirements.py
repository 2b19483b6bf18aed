"""A child's placement requirements (the Placements Data Standard's MUST fields and hard facts) against a home:
hard limits, each explained, and explained factors. Pure."""
from __future__ import annotations

from services.matching.domain.impact_risk import assess, score_home
from services.matching.domain.limits import explain_limit, failed_limit
from services.matching.domain.model import Child, Home, Requirements, Resident
from services.matching.domain.rules import load_rules

RULES = load_rules()


def child(age=14, codes=(), **requirements) -> Child:
    return Child("new", age, "female", tuple((c, "medium") for c in codes), "LE4",
                 Requirements(**requirements) if requirements else None)


def resident(pid, age, **requirements) -> Resident:
    return Resident(pid, Child(f"r-{pid}", age, "female", (), None, Requirements(**requirements) if requirements
                               else None), "phase_2")


def test_a_child_who_cannot_live_with_pets_is_never_offered_a_home_with_a_dog():
    dog, none = Home(id="dog", pets=True), Home(id="none")
    result = assess(child(pets="no_pets"), [dog, none], RULES)
    assert [o.home.id for o in result.ranked] == ["none"] and result.excluded["pets_in_home"] == 1
    assert "cannot live with pets" in explain_limit("pets_in_home", child(pets="no_pets"), dog, RULES)["detail"]
    assert failed_limit(child(pets="must_live_with_pets"), none, RULES) == "no_pets_in_home"
    assert failed_limit(child(pets="can_live_with_pets"), dog, RULES) is None


def test_a_child_who_must_live_alone_is_offered_only_a_home_registered_for_one_child():
    single, three = Home(id="single", registered_places=1), Home(id="three", registered_places=3)
    new = child(living_companions="solo")
    assert [o.home.id for o in assess(new, [single, three], RULES).ranked] == ["single"]
    assert "registered for 3 children" in explain_limit("solo_placement_needed", new, three, RULES)["detail"]


def test_living_companions_ages_bind_both_the_child_and_the_residents():
    home = Home(id="h", residents=(resident("p1", 15),))
    assert failed_limit(child(age=14, living_companions="older_children_only"), home, RULES) is None
    assert failed_limit(child(age=16, living_companions="older_children_only"), home, RULES) == "living_companions"
    assert failed_limit(child(age=16, living_companions="younger_children_only"), home, RULES) is None
    strict = Home(id="h", residents=(resident("p1", 15, living_companions="older_children_only"),))
    assert failed_limit(child(age=14), strict, RULES) == "living_companions"
    assert "may live only with older children" in explain_limit("living_companions", child(age=14), strict,
                                                                 RULES)["detail"]
    assert failed_limit(child(age=16), strict, RULES) is None


def test_deprivation_of_liberty_siblings_and_residential_suitability_are_hard_limits():
    assert failed_limit(child(deprivation_of_liberty=True), Home(id="h"), RULES) == \
        "deprivation_of_liberty_not_accepted"
    assert failed_limit(child(deprivation_of_liberty=True), Home(id="h", accepts_deprivation_of_liberty=True),
                        RULES) is None
    assert failed_limit(child(sibling_count=2), Home(id="h", registered_places=3), RULES) is None
    crowded = Home(id="h", registered_places=3, residents=(resident("p1", 15),))
    assert failed_limit(child(sibling_count=2), crowded, RULES) == "too_few_places_for_siblings"
    assert failed_limit(child(residential_care_suitability="unsuitable"), Home(id="h"), RULES) == \
        "residential_care_unsuitable"


def test_what_a_home_meets_only_in_part_is_an_explained_factor():
    plain = Home(id="plain", pets=True)
    option = score_home(child(codes=("harm_to_animals",), pets="not_known", communication_requirements=("bsl",),
                              home_adaptation=True, additional_support="therapeutic_support"), plain, RULES)
    term = next(t for t in option.terms if t["term"] == "requirements")
    assert term["points"] == 30 + 10 + 10 + 20
    for words in ("risk to animals", "not known", "BSL", "adapted"):
        assert words in term["reason"]
    assert {"animal_welfare_risk_plan", "therapeutic_support_plan"} <= set(option.mitigations)
    fitted = Home(id="fitted", communication_support=frozenset({"bsl"}), adapted=True)
    better = score_home(child(communication_requirements=("bsl",), home_adaptation=True), fitted, RULES)
    assert next(t for t in better.terms if t["term"] == "requirements")["points"] == 0
    assert better.score < option.score


def test_the_previous_rules_stay_readable_for_the_assessments_made_under_them():
    v1 = load_rules("impact_rules_v1.yaml")
    assert v1.version == "impact-rules/1" and RULES.version == "impact-rules/2"
    assert any("exploitation_risk" in p.b_codes for p in v1.pairs)
    assert not any("exploitation_risk" in p.b_codes | set(p.a.split("|")) for p in RULES.pairs)
