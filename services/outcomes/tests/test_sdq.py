"""SDQ scoring from worked examples: the five scales, every reverse-scored item, prorating and refusing,
externalising/internalising, the impact supplement, and each band edge for each informant."""
from __future__ import annotations

import pytest

from services.outcomes.domain import sdq
from services.outcomes.domain.errors import OutcomeError


def form(**answers) -> dict[int, int | None]:
    """Every item 'not true' (0) unless given as i<n>=value."""
    items = {i: 0 for i in range(1, 26)}
    items.update({int(k[1:]): v for k, v in answers.items()})
    return items


def test_all_not_true_scores_the_reverse_items_as_two():
    # "Not true" everywhere: the five reverse-scored items (7, 11, 14, 21, 25) each score 2
    s = sdq.score("parent", form())
    assert s.scales == {"emotional": 0, "conduct": 2, "hyperactivity": 4, "peer": 4, "prosocial": 0}
    assert s.total_difficulties == 10 and s.externalising == 6 and s.internalising == 4
    assert s.band == "close_to_average"


@pytest.mark.parametrize("item,scale", [(7, "conduct"), (11, "peer"), (14, "peer"), (21, "hyperactivity"),
                                        (25, "hyperactivity")])
def test_each_reverse_scored_item(item, scale):
    base = sdq.score("parent", form()).scales[scale]
    certainly = sdq.score("parent", form(**{f"i{item}": 2})).scales[scale]
    somewhat = sdq.score("parent", form(**{f"i{item}": 1})).scales[scale]
    assert (base - certainly, base - somewhat) == (2, 1)


@pytest.mark.parametrize("scale,items", list(sdq.SCALES.items()))
def test_each_scale_from_its_own_items(scale, items):
    plain = [i for i in items if i not in sdq.REVERSED]
    raised = sdq.score("parent", form(**{f"i{i}": 2 for i in plain}))
    base = sdq.score("parent", form())
    assert raised.scales[scale] - base.scales[scale] == 2 * len(plain)
    for other in sdq.SCALES:
        if other != scale:
            assert raised.scales[other] == base.scales[other]


def test_worked_example():
    # a young person with marked difficulties, parent-rated
    answers = {1: 1, 2: 2, 3: 1, 4: 1, 5: 2, 6: 1, 7: 0, 8: 2, 9: 1, 10: 2, 11: 1, 12: 2, 13: 2, 14: 1, 15: 2,
               16: 1, 17: 2, 18: 1, 19: 1, 20: 0, 21: 0, 22: 1, 23: 2, 24: 1, 25: 1}
    s = sdq.score("parent", answers)
    # emotional 1+2+2+1+1=7; conduct 2+(2-0)+2+1+1=8; hyper 2+2+2+(2-0)+(2-1)=9; peer 1+(2-1)+(2-1)+1+2=6
    assert s.scales == {"emotional": 7, "conduct": 8, "hyperactivity": 9, "peer": 6, "prosocial": 5}
    assert (s.total_difficulties, s.externalising, s.internalising, s.band) == (30, 17, 13, "very_high")


def test_one_or_two_missing_items_are_prorated():
    # emotional: 3 answered (2, 2, 1) -> mean 5/3 x 5 = 8.33 -> 8
    s = sdq.score("parent", form(i3=2, i8=2, i13=1, i16=None, i24=None))
    assert s.scales["emotional"] == 8 and s.prorated == ("emotional",)
    # one missing: 4 answered (1, 1, 1, 0) -> 3/4 x 5 = 3.75 -> 4
    assert sdq.score("parent", form(i3=1, i8=1, i13=1, i16=None)).scales["emotional"] == 4
    # a half rounds up: 4 answered summing 1 -> 1.25 -> 1; summing 2 -> 2.5 -> 3
    assert sdq.score("parent", form(i3=1, i16=None)).scales["emotional"] == 1
    assert sdq.score("parent", form(i3=2, i16=None)).scales["emotional"] == 3
    assert sdq.score("parent", form(i3=2, i16=None)).total_difficulties == 3 + 2 + 4 + 4


def test_three_missing_items_refuse_the_scale_and_the_total():
    s = sdq.score("parent", form(i5=None, i12=None, i18=None))
    assert s.scales["conduct"] is None and s.total_difficulties is None and s.band is None
    assert s.externalising is None and s.internalising == 4
    # the prosocial scale is not part of the total: the total still stands
    s = sdq.score("parent", form(i1=None, i4=None, i9=None))
    assert s.scales["prosocial"] is None and s.total_difficulties == 10


def total_of(n: int) -> dict[int, int]:
    """A form whose total difficulties is n (0..40), raising difficulty items one at a time."""
    items = {i: 0 for i in range(1, 26)}
    for i in sdq.REVERSED:
        items[i] = 2  # 'certainly true' on a reversed item scores 0
    remaining = n
    for scale in sdq.DIFFICULTY_SCALES:
        for i in sdq.SCALES[scale]:
            step = min(2, remaining)
            items[i] = 2 - step if i in sdq.REVERSED else step
            remaining -= step
    assert remaining == 0
    return items


EDGES = {  # informant: [(total, band)] at each edge (sdqinfo four-band categorisation)
    "parent": [(0, "close_to_average"), (13, "close_to_average"), (14, "slightly_raised"), (16, "slightly_raised"),
               (17, "high"), (19, "high"), (20, "very_high"), (40, "very_high")],
    "teacher": [(0, "close_to_average"), (11, "close_to_average"), (12, "slightly_raised"), (15, "slightly_raised"),
                (16, "high"), (18, "high"), (19, "very_high"), (40, "very_high")],
    "self": [(0, "close_to_average"), (14, "close_to_average"), (15, "slightly_raised"), (17, "slightly_raised"),
             (18, "high"), (19, "high"), (20, "very_high"), (40, "very_high")],
}


@pytest.mark.parametrize("informant,total,band", [(i, t, b) for i, edges in EDGES.items() for t, b in edges])
def test_band_edges_per_informant(informant, total, band):
    s = sdq.score(informant, total_of(total))
    assert (s.total_difficulties, s.band) == (total, band)


def test_impact_supplement():
    parent = {"difficulties": True, "distress": 3, "home_life": 2, "friendships": 1, "classroom_learning": 0,
              "leisure_activities": 2}
    s = sdq.score("parent", form(), parent)
    assert (s.impact, s.impact_band) == (4, "very_high")   # 2 + 1 + 0 + 0 + 1
    assert sdq.score("parent", form(), {"difficulties": False}).impact == 0
    teacher = {"difficulties": True, "distress": 2, "peer_relationships": 1, "classroom_learning": 1}
    assert sdq.score("teacher", form(), teacher).impact == 1
    assert sdq.score("parent", form(), {"difficulties": True, "distress": 2}).impact is None  # incomplete


def test_bad_items_are_refused_naming_the_item():
    with pytest.raises(OutcomeError) as e:
        sdq.parse_items({str(i): 0 for i in range(1, 25)})
    assert (e.value.field, e.value.rule) == ("body.items.25", "sdq_item_required")
    with pytest.raises(OutcomeError) as e:
        sdq.parse_items({**{str(i): 0 for i in range(1, 26)}, "7": 3})
    assert (e.value.field, e.value.rule) == ("body.items.7", "sdq_item_value")
    with pytest.raises(OutcomeError) as e:
        sdq.parse_items({**{str(i): 0 for i in range(1, 26)}, "26": 0})
    assert e.value.rule == "sdq_item_number"


@pytest.mark.parametrize("key", ["\u00b9", "\u0661", "\uff11", "\u00b2\u00b3"])
def test_an_item_number_in_a_non_ascii_digit_is_refused_not_a_crash(key):
    # str.isdigit() is true for superscripts and other scripts' digits that int() refuses (found by the API fuzz
    # as a 500 on POST /v1/outcomes/sdq/score)
    with pytest.raises(OutcomeError) as e:
        sdq.parse_items({**{str(i): 0 for i in range(1, 26)}, key: 0})
    assert (e.value.field, e.value.rule) == (f"body.items.{key}", "sdq_item_number")
