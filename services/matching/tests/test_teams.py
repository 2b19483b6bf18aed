"""The ranking of outreach teams (domain/teams.py): hard limits (suspended, caseload, reach), then capacity,
distance and specialism fit, explained term by term. Pure: no database."""
from __future__ import annotations

import pytest

from libs.common.geography import distance_km
from libs.common.vocabulary import OUTREACH_SPECIALISMS, AT_RISK, NEEDS_AND_RISKS
from services.matching.domain.teams import (KM_PER_MILE, TEAM_LIMITS, OutreachChild, Team, failed_limit,
                                            planned_weeks_for, rank_teams, score_team, SERVES)

CHILD = OutreachChild(ref="r1", outward_code="LE3",
                      codes=frozenset({"sexual_exploitation_risk", "placement_breakdown"}),
                      current_setting="foster_care")


def team(id: str, **kw) -> Team:
    return Team(id=id, name=f"Team {id}", region="east_midlands", **{"outward_code": "LE4", **kw})


def test_a_team_at_its_caseload_limit_is_not_offered_and_says_why():
    full = team("a", caseload=6, caseload_limit=6)
    ranking = rank_teams(CHILD, [full, team("b", caseload=5, caseload_limit=6)])
    assert [o.team.id for o in ranking.ranked] == ["b"]
    assert ranking.excluded == {"team_suspended": 0, "caseload_full": 1, "outside_reach": 0}
    (exclusion,) = ranking.to_dict()["exclusions"]
    assert exclusion["limit"] == "caseload_full" and "6 of 6 open interventions" in exclusion["detail"]
    # one place below the limit: offered, with the fuller caseload scoring worse
    assert failed_limit(CHILD, team("c", caseload=5, caseload_limit=6)) is None


def test_a_child_outside_the_teams_reach_is_not_offered_measured_from_the_base():
    miles = distance_km("LE3", "NG7") / KM_PER_MILE
    assert 20 < miles < 30
    assert failed_limit(CHILD, team("n", outward_code="NG7", reach_miles=int(miles) - 1)) == "outside_reach"
    assert failed_limit(CHILD, team("n", outward_code="NG7", reach_miles=int(miles) + 1)) is None
    detail = rank_teams(CHILD, [team("n", outward_code="NG7", reach_miles=10)]).to_dict()["exclusions"][0]["detail"]
    assert "LE3 to NG7" in detail and "its reach is 10 miles" in detail


def test_an_unknown_location_is_not_excluded_but_scored_neutrally_and_said():
    child = OutreachChild(ref="r2", outward_code=None, codes=frozenset())
    (option,) = rank_teams(child, [team("a", reach_miles=1)]).ranked
    distance = next(t for t in option.terms if t["term"] == "distance")
    assert distance["points"] == 5.0 and "distance unknown" in distance["reason"]


def test_a_suspended_team_is_excluded_first():
    assert failed_limit(CHILD, team("s", active=False, caseload=6, caseload_limit=6)) == "team_suspended"
    assert TEAM_LIMITS[0] == "team_suspended"


def test_specialism_fit_capacity_and_distance_order_the_teams():
    fit = team("z", specialisms=frozenset({"child_sexual_exploitation", "family_work"}))
    plain = team("a")
    ranking = rank_teams(CHILD, [plain, fit])
    assert [o.team.id for o in ranking.ranked] == ["z", "a"]   # the specialism outweighs the id order
    terms = {t["term"]: t for t in ranking.ranked[0].terms}
    assert terms["specialism"]["points"] == -8.0
    assert "child_sexual_exploitation serves sexual_exploitation_risk" in terms["specialism"]["reason"]
    assert "family_work serves placement_breakdown" in terms["specialism"]["reason"]
    # more capacity left ranks first when all else is equal
    emptier, fuller = team("y", caseload=1), team("b", caseload=4)
    assert [o.team.id for o in rank_teams(CHILD, [fuller, emptier]).ranked] == ["y", "b"]
    # nearer ranks first when all else is equal
    near, far = team("x", outward_code="LE3"), team("c", outward_code="LE11")
    assert [o.team.id for o in rank_teams(CHILD, [far, near]).ranked] == ["x", "c"]


def test_the_score_is_the_sum_of_the_weighted_terms_and_the_answer_is_deterministic():
    option = score_team(CHILD, team("a", caseload=3, caseload_limit=6, specialisms=frozenset({"family_work"})),
                        km=16.1)
    assert option.score == round(sum(t["weighted"] for t in option.terms), 2)
    assert [t["points"] for t in option.terms] == [5.0, 4.0, -4.0]  # half full; 10 miles of 25; one code served
    teams = [team(str(i), caseload=i % 3, outward_code=("LE4", "LE11", "NG7")[i % 3]) for i in range(9)]
    assert rank_teams(CHILD, teams).to_dict() == rank_teams(CHILD, list(reversed(teams))).to_dict()


def test_every_specialism_serves_known_codes_only():
    assert set(SERVES) == set(OUTREACH_SPECIALISMS)
    known = set(NEEDS_AND_RISKS) | set(AT_RISK)
    assert all(codes <= known for codes in SERVES.values())


@pytest.mark.parametrize("basis,given,asked,weeks", [("fixed_fee", None, None, 6), ("fixed_fee", 8, None, 8),
                                                     ("weekly", None, 26, 26), ("weekly", 12, 26, 12),
                                                     ("weekly", None, None, None)])
def test_planned_weeks(basis, given, asked, weeks):
    assert planned_weeks_for(basis, given, asked) == weeks
