"""The codes the councils' data standards use, checked by the DfE's rules (issue 12, "What to build" 4): the
ending-code table of a children's home placement, X1's reason for the placement change, ages, the legal
status history, sex codes, URNs in both forms and councils by both identifiers. Pure: no services."""
from __future__ import annotations

from datetime import date

import pytest

from libs.common.councils import council, dfe_la_number, ons_code
from libs.common.vocabulary import COUNCILS, normal_sex
from services.assessment.domain import ssda903
from services.assessment.domain.ending import (REASON_PLACE_CHANGE, InvalidEnding, allowed_reason_codes,
                                               check_ending)
from services.matching.domain.limits import sex_fits
from services.matching.schemas import URN_PATTERN
from services.referral.domain.referral import InvalidCode, check_category_of_need, check_sex


def _rule(fn, *args, **kwargs) -> tuple[str, str]:
    with pytest.raises(InvalidEnding) as caught:
        fn(*args, **kwargs)
    return caught.value.field, caught.value.rule


# --- the ending-code table ----------------------------------------------------------------------------------
@pytest.mark.parametrize("ending,destination", [("step_down", d) for d in
                                                ("return_home", "foster_care", "supported_living",
                                                 "independent_living", "residential_home")]
                         + [(t, None) for t in ("breakdown", "hospital", "custody", "secure", "missing", "other")])
def test_no_ending_of_a_childrens_home_placement_is_an_adoption_dfe_rule_390(ending, destination):
    assert not {"E11", "E12"} & set(allowed_reason_codes(ending, destination))
    assert _rule(check_ending, ending, destination, "E11") == ("reason_code", "reason_code_for_ending")


def test_a_hospital_ending_is_neither_a_death_nor_a_transfer_to_adult_residential_care():
    assert not {"E2", "E7"} & set(allowed_reason_codes("hospital", None))
    for code in ("E2", "E7"):
        assert _rule(check_ending, "hospital", None, code) == ("reason_code", "reason_code_for_ending")


def test_e17_remained_with_current_carers_is_never_a_step_down_which_is_a_move():
    for destination in ("supported_living", "independent_living"):
        assert "E17" not in allowed_reason_codes("step_down", destination)
    check_ending("other", None, "E17", age=18)
    assert _rule(check_ending, "other", None, "E17", age=17) == ("reason_code", "reason_code_for_age")  # rule 460


def test_independent_living_e5_e6_needs_the_child_aged_14_dfe_rule_387():
    check_ending("step_down", "independent_living", "E6", age=14)
    check_ending("step_down", "supported_living", "E5", age=16)
    assert _rule(check_ending, "step_down", "independent_living", "E5", age=13) == ("reason_code",
                                                                                    "reason_code_for_age")
    check_ending("step_down", "independent_living", "E5")  # age unknown: the table alone


def test_an_x1_ending_names_the_reason_for_the_placement_change_and_nothing_else_does():
    assert _rule(check_ending, "breakdown", None, "X1") == ("reason_place_change", "required_for_x1")
    assert _rule(check_ending, "breakdown", None, "X1", "NOPE") == ("reason_place_change", "reason_place_change")
    assert _rule(check_ending, "breakdown", None, "E8", "CARPL") == ("reason_place_change", "only_for_x1")
    for code in REASON_PLACE_CHANGE:
        check_ending("breakdown", None, "X1", code, age=15)
    # rule 234: no placement change into custody under 10
    assert _rule(check_ending, "custody", None, "X1", "CUSTOD", age=9) == ("reason_place_change",
                                                                           "reason_place_change_for_age")
    assert set(REASON_PLACE_CHANGE) == {"CARPL", "CLOSE", "ALLEG", "STAND", "APPRR", "CREQB", "CREQO", "CHILD",
                                        "LAREQ", "PLACE", "CUSTOD", "OTHER"}


# --- sex, category of need, URN, councils --------------------------------------------------------------------
def test_sex_takes_the_returns_codes_and_the_words():
    assert [check_sex(v) for v in ("M", "f", "U", "female", "Male", "unknown")] == [
        "male", "female", "unknown", "female", "male", "unknown"]
    with pytest.raises(InvalidCode):
        check_sex("X")
    assert normal_sex(" u ") == "unknown"


def test_a_child_of_unknown_sex_fits_only_a_home_registered_for_both():
    assert sex_fits("unknown", {"female", "male"}) and not sex_fits("unknown", {"female"})
    assert sex_fits("female", {"female"}) and not sex_fits("male", {"female"})


def test_category_of_need_is_an_ssda903_cin_code():
    assert check_category_of_need("n4") == "N4"
    with pytest.raises(InvalidCode):
        check_category_of_need("N9")


@pytest.mark.parametrize("urn,ok", [("SC123456", True), ("2512345", True), ("SC12345", False),
                                    ("25123456", False), ("sc123456", False), ("SC1234567", False)])
def test_urns_in_both_of_ofsteds_forms(urn, ok):
    import re
    assert bool(re.match(URN_PATTERN, urn)) is ok


def test_councils_by_ons_code_and_dfe_la_number():
    assert dfe_la_number("E10000018") == "855" and ons_code("855") == "E10000018"
    assert council("E06000016") == {"ons_code": "E06000016", "dfe_la_number": "856", "name": "Leicester City Council"}
    assert all(dfe_la_number(c) for c in COUNCILS) and dfe_la_number("E99999999") is None


# --- legal status history and episodes -------------------------------------------------------------------------
ARRIVED = date(2026, 5, 1)


def test_a_legal_status_change_takes_effect_in_order_and_changes_the_status():
    history = ssda903.legal_status_history("C1", ARRIVED, [])
    ssda903.check_legal_status_change(history, "C2", date(2026, 6, 1), arrival=ARRIVED, end_date=None,
                                      today=date(2026, 7, 1))
    for bad, day, field in (("C1", date(2026, 6, 1), "legal_status"), ("C2", date(2026, 4, 1), "effective_date"),
                            ("C2", date(2026, 8, 1), "effective_date"), ("Q9", date(2026, 6, 1), "legal_status")):
        with pytest.raises(ssda903.InvalidEpisode) as caught:
            ssda903.check_legal_status_change(history, bad, day, arrival=ARRIVED, end_date=None,
                                              today=date(2026, 7, 1))
        assert caught.value.field == field
    # a change on the arrival day corrects the first status
    corrected = ssda903.legal_status_history(None, ARRIVED, [{"legal_status": "V2", "effective_date": "2026-05-01"}])
    assert [(s.legal_status, s.effective_date) for s in corrected] == [("V2", ARRIVED)]


def test_a_new_episode_whenever_the_legal_status_changes_and_the_ending_closes_the_last():
    child = {"child_ref": "LCC-1", "legal_status": "C1", "category_of_need": "N1", "home_outward_code": "LE4"}
    placement = {"arrival_date": ARRIVED, "end_date": date(2026, 9, 1), "reason_new_episode": "P",
                 "home_urn": "SC123456", "home_postcode": "NG7 2RD",
                 "ending": {"reason_code": "X1", "reason_place_change": "CARPL"},
                 "legal_statuses": [{"legal_status": "C2", "effective_date": "2026-06-15"}]}
    rows = ssda903.episodes(child=child, placement=placement)
    assert [(r["DECOM"], r["RNE"], r["LS"], r["DEC"], r["REC"], r["REASON_PLACE_CHANGE"]) for r in rows] == [
        (ARRIVED, "P", "C1", date(2026, 6, 15), "X1", None),
        (date(2026, 6, 15), "L", "C2", date(2026, 9, 1), "X1", "CARPL")]
    assert all(r["PLACE"] == "K2" and r["URN"] == "SC123456" and r["PL_POST"] == "NG7 2RD" and r["HOME_POST"] == "LE4"
               for r in rows)
    assert 15 < rows[0]["PL_DISTANCE"] < 30  # Leicester to Nottingham, in miles
    assert list(rows[0]) == list(ssda903.COLUMNS)
    assert ssda903.csv_value("DECOM", ARRIVED) == "01/05/2026" and ssda903.csv_value("DEC", None) == ""
