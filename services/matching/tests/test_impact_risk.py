"""The impact risk assessment, as specifications of its pure core (no I/O)."""
from __future__ import annotations

import json

from hypothesis import assume, given, settings, strategies as st

from services.matching.domain.impact_risk import assess, impact_of, pair_risks, rating_for, score_home
from services.matching.domain.limits import HARD_LIMITS, failed_limit
from services.matching.domain.model import RATING_ORDER, Child, Home, Requirements, Resident
from services.matching.domain.rules import load_rules

RULES = load_rules()
CODES = sorted({c for p in RULES.pairs for c in p.a.split("|")} | {c for p in RULES.pairs for c in p.b_codes if c != "*"}
               | {"trauma", "ehcp", "harm_to_animals"})
SEVERITIES = ("low", "medium", "high")
OUTWARDS = ("LE4", "LE2", "LE11", "NG7", "B15", "CV1", "CB1", None, "ZZ9")


def child(ref="new", age=14, sex="female", codes=(), outward="LE4") -> Child:
    return Child(ref=ref, age=age, sex=sex, codes=tuple(sorted((c, "medium") for c in codes)), outward_code=outward)


def resident(pid, age=14, codes=(), phase="phase_2", sex="female") -> Resident:
    return Resident(placement_id=pid, child=child(ref=f"ref-{pid}", age=age, sex=sex, codes=codes), phase=phase)


requirements = st.none() | st.builds(
    Requirements, living_companions=st.sampled_from([None, "solo", "with_other_children", "older_children_only",
                                                     "younger_children_only", "no_preference"]),
    pets=st.sampled_from([None, "must_live_with_pets", "can_live_with_pets", "no_pets", "not_known"]),
    deprivation_of_liberty=st.sampled_from([None, False, True]), sibling_count=st.sampled_from([None, 0, 1, 2]),
    communication_requirements=st.sets(st.sampled_from(["esol", "bsl", "makaton", "other", "none"])).map(tuple),
    home_adaptation=st.sampled_from([None, False, True]),
    residential_care_suitability=st.sampled_from([None, "preferred", "suitable_not_preferred", "unsuitable"]))

children = st.builds(
    Child, ref=st.just("new"), age=st.integers(8, 17), sex=st.sampled_from(["female", "male"]),
    codes=st.lists(st.tuples(st.sampled_from(CODES), st.sampled_from(SEVERITIES)), max_size=5, unique_by=lambda t: t[0])
    .map(lambda xs: tuple(sorted(xs))),
    outward_code=st.sampled_from(OUTWARDS), requirements=requirements)

residents = st.builds(
    Resident, placement_id=st.uuids().map(str), child=children.map(lambda c: Child(
        ref="r-" + c.ref, age=c.age, sex=c.sex, codes=c.codes, outward_code=None)),
    phase=st.sampled_from(["phase_1", "phase_2"]))

homes = st.builds(
    Home, id=st.uuids().map(str), live=st.booleans(),
    registration_status=st.sampled_from(["registered", "registered", "suspended"]),
    ofsted_rating=st.sampled_from(["outstanding", "good", "requires_improvement", "inadequate", None]),
    age_min=st.integers(8, 12), age_max=st.integers(13, 17),
    sexes=st.sampled_from([frozenset({"female"}), frozenset({"male"}), frozenset({"female", "male"})]),
    categories=st.sets(st.sampled_from(["emotional_behavioural_difficulties", "mental_disorders",
                                        "learning_disability", "drug_alcohol_misuse"]), min_size=1).map(frozenset),
    specialisms=st.sets(st.sampled_from(sorted(RULES.specialisms)), max_size=2).map(frozenset),
    outward_code=st.sampled_from(OUTWARDS), pathway_bed_free=st.booleans(), phase_1_limit=st.integers(1, 2),
    residents=st.lists(residents, max_size=4, unique_by=lambda r: r.placement_id).map(tuple),
    registered_places=st.integers(1, 5), pets=st.booleans(), accepts_deprivation_of_liberty=st.booleans(),
    communication_support=st.sets(st.sampled_from(["esol", "bsl", "makaton", "other"])).map(frozenset),
    adapted=st.booleans())


# --- the properties the issue names --------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(children, homes, residents)
def test_adding_a_resident_never_lowers_a_homes_risk(new, home, extra):
    before = score_home(new, home, RULES)
    after = score_home(new, home.with_resident(extra), RULES)
    assert after.impact >= before.impact
    assert RATING_ORDER[after.rating] >= RATING_ORDER[before.rating]


@settings(max_examples=200, deadline=None)
@given(children, st.lists(homes, max_size=12, unique_by=lambda h: h.id))
def test_a_home_failing_a_hard_limit_never_appears_and_is_counted(new, hs):
    result = assess(new, hs, RULES)
    ranked_ids = {o.home.id for o in result.ranked}
    failing = [h for h in hs if failed_limit(new, h, RULES) is not None]
    assert not ranked_ids & {h.id for h in failing}
    assert sum(result.excluded.values()) == len(failing)
    assert set(result.excluded) == set(HARD_LIMITS)
    assert result.homes_considered == len(hs) == len(failing) + len(result.ranked)


@settings(max_examples=200, deadline=None)
@given(children, st.lists(homes, max_size=12, unique_by=lambda h: h.id), st.randoms())
def test_the_ranking_is_a_total_order_and_deterministic(new, hs, rnd):
    first = assess(new, hs, RULES)
    shuffled = list(hs)
    rnd.shuffle(shuffled)
    second = assess(new, shuffled, RULES)
    canon = lambda a: json.dumps(a.to_dict(), sort_keys=True, separators=(",", ":"))  # noqa: E731
    assert canon(first) == canon(second)
    keys = [o.sort_key for o in first.ranked]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)


risky_rules = [p for p in RULES.pairs if p.b != "*" and p.score >= RULES.thresholds["medium"]]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(risky_rules), st.booleans(), st.integers(11, 15),
       st.lists(st.integers(10, 16), max_size=3), st.sampled_from(["medium", "high"]))
def test_removing_the_only_risky_resident_lowers_the_rating(rule, new_holds_a, age, benign_ages, severity):
    a_codes, b_codes = ((rule.a.split("|")[0], severity),), ((sorted(rule.b_codes)[0], severity),)
    new = Child(ref="new", age=age, sex="female", codes=a_codes if new_holds_a else b_codes, outward_code="LE4")
    risky = Resident("risky", Child("r-risky", age, "female", b_codes if new_holds_a else a_codes), "phase_2")
    benign = tuple(Resident(f"b{i}", Child(f"r-b{i}", a, "female", ()), "phase_2") for i, a in enumerate(benign_ages))
    assume(all(not pair_risks(new, b.child, RULES) for b in benign))  # the risky resident is the only one
    home = Home(id="h", residents=benign + (risky,))
    with_risky = score_home(new, home, RULES)
    without = score_home(new, home.without_resident("risky"), RULES)
    assert RATING_ORDER[with_risky.rating] > RATING_ORDER[without.rating]


# --- examples that read as the rules -----------------------------------------------------------------
def test_a_child_who_exploits_others_beside_a_child_at_risk_of_exploitation_is_a_high_risk():
    new = child(codes=["exploits_others"])
    home = Home(id="h1", outward_code="LE2", residents=(resident("p1", codes=["sexual_exploitation_risk"]),))
    option = score_home(new, home, RULES)
    assert option.rating == "high"
    (risk,) = option.resident_risks
    assert [f.rule.id for f in risk.fired] == ["exploiter_beside_exploited"]
    assert "exploitation_safety_plan_with_police_liaison" in option.mitigations
    assert {"soft_landing_plan_48_72h", "prepare_current_group"} <= set(option.mitigations)


def test_harmful_sexual_behaviour_beside_a_much_younger_child_is_unacceptable_but_not_beside_a_peer():
    new = child(age=16, codes=["harmful_sexual_behaviour"])
    younger = Home(id="h1", residents=(resident("p1", age=12),))
    peer = Home(id="h2", residents=(resident("p1", age=15),))
    assert score_home(new, younger, RULES).rating == "unacceptable"
    assert score_home(new, peer, RULES).rating == "low"


def test_a_rule_fires_in_either_direction():
    exploiter_resident = Home(id="h", residents=(resident("p1", codes=["exploits_others"]),))
    fired = pair_risks(child(codes=["sexual_exploitation_risk"]), exploiter_resident.residents[0].child, RULES)
    assert [(f.rule.id, f.holder) for f in fired] == [("exploiter_beside_exploited", "resident")]


def test_a_home_with_a_child_in_phase_1_takes_no_second_crisis_admission():
    home = Home(id="h", residents=(resident("p1", phase="phase_1"),))
    result = assess(child(), [home], RULES)
    assert result.ranked == () and result.excluded["phase_1_limit"] == 1


def test_a_suspended_or_inadequate_home_is_out_of_matching():
    result = assess(child(), [Home(id="a", registration_status="suspended"), Home(id="b", ofsted_rating="inadequate"),
                              Home(id="c")], RULES)
    assert [o.home.id for o in result.ranked] == ["c"]
    assert result.excluded["not_matchable"] == 2


def test_needs_beyond_registration_exclude_a_home():
    result = assess(child(codes=["mental_health"]), [Home(id="a"), Home(id="b", categories=frozenset(
        {"emotional_behavioural_difficulties", "mental_disorders"}))], RULES)
    assert [o.home.id for o in result.ranked] == ["b"]
    assert result.excluded["needs_beyond_registration"] == 1


def test_a_nearer_home_ranks_first_all_else_equal_and_the_answer_explains_each_term():
    near, far = Home(id="z-near", outward_code="CV22"), Home(id="a-far", outward_code="CB1")
    result = assess(child(outward="CV21"), [far, near], RULES).to_dict()
    assert [o["home_id"] for o in result["options"]] == ["z-near", "a-far"]
    terms = {t["term"]: t for t in result["options"][0]["terms"]}
    assert set(terms) == {"resident_risks", "group_make_up", "distance", "specialism", "ofsted",
                          "requirements"}
    assert "km from CV21 to CV22" in terms["distance"]["reason"]
    assert result["rules_version"] == RULES.version and result["weights"]["impact"] == 1.0


def test_an_unknown_district_falls_back_to_its_area_then_to_a_neutral_distance():
    from services.matching.domain.distance import distance_km, locate
    assert locate("CV99") is not None  # not a district in the data: the CV area's centroid
    assert distance_km("ZZ9", "LE4") is None
    option = score_home(child(outward="ZZ9"), Home(id="h", outward_code="LE4"), RULES)
    term = next(t for t in option.terms if t["term"] == "distance")
    assert term["points"] == RULES.distance["unknown"] and "unknown" in term["reason"]


def test_the_severity_of_a_risk_scales_its_score():
    low = Child("n", 14, "female", (("exploits_others", "low"),))
    high = Child("n", 14, "female", (("exploits_others", "high"),))
    victim = Child("r", 14, "female", (("sexual_exploitation_risk", "medium"),))
    assert pair_risks(low, victim, RULES)[0].score < pair_risks(high, victim, RULES)[0].score


def test_ratings_follow_the_thresholds_of_the_rules_file():
    t = RULES.thresholds
    assert [rating_for(v, False, RULES) for v in (0, t["medium"], t["high"], t["unacceptable"])] == list(
        ("low", "medium", "high", "unacceptable"))
    assert rating_for(0, True, RULES) == "unacceptable"
    impact, *_ = impact_of(child(), Home(id="h"), RULES)
    assert impact == 0


def test_leicester_districts_are_a_few_km_apart_and_nottingham_is_further():
    from services.matching.domain.distance import distance_km
    assert distance_km("LE4", "LE2") < 10 < distance_km("LE4", "NG7") < 50 < distance_km("LE4", "M1") < 150
