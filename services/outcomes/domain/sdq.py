"""The Strengths and Difficulties Questionnaire (SDQ), scored by the published rules. Pure.

Sources (each rule below names the one it follows):
  [SCORING]  Youthinmind, "Scoring the Strengths & Difficulties Questionnaire for age 4-17 or 18+"
             (sdqinfo.org, py/sdqinfo/c0.py): item-to-scale key, reverse-scored items, total difficulties,
             the impact supplement.
  [SYNTAX]   Youthinmind's official SPSS/Stata scoring syntax (sdqinfo.org, "SDQ scoring syntax"): a scale
             score is prorated when at least 3 of its 5 items are answered (mean x 5, rounded), and missing
             otherwise; the total difficulties needs all four difficulty scales (sum.4).
  [BANDS]    Youthinmind, "Four-band categorisation" (2014, sdqinfo.org py/sdqinfo/c0.py, the 4-17 tables):
             close to average / slightly raised / high / very high, per informant.
  [EXT-INT]  Goodman, Lamping & Ploubidis (2010), "When to use broader internalising and externalising
             subscales instead of the hypothesised five subscales on the SDQ", J Abnorm Child Psychol
             38:1179-1191: externalising = conduct + hyperactivity, internalising = emotional + peer (0-20 each).

Answers are given as the response chosen: 0 = Not True, 1 = Somewhat True, 2 = Certainly True, or None
(missing). The reverse-scored items are turned round here [SCORING]; the caller never pre-reverses.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Mapping

from .errors import OutcomeError

INFORMANTS = ("parent", "teacher", "self")   # a carer completes the parent version
ITEMS = tuple(range(1, 26))

# [SCORING] the item-to-scale key of the 25-item SDQ (the same numbering on the parent, teacher and self forms)
SCALES: dict[str, tuple[int, ...]] = {
    "emotional": (3, 8, 13, 16, 24),       # somatic, worries, unhappy, clingy, fears
    "conduct": (5, 7, 12, 18, 22),         # tantrums, obedient (R), fights, lies, steals
    "hyperactivity": (2, 10, 15, 21, 25),  # restless, fidgety, distractible, reflective (R), attends (R)
    "peer": (6, 11, 14, 19, 23),           # solitary, good friend (R), popular (R), bullied, better with adults
    "prosocial": (1, 4, 9, 17, 20),        # considerate, shares, caring, kind, helps out
}
# [SCORING] "Somewhat True is always scored as 1, but the scoring of Not True and Certainly True varies with
# the item": items 7, 11, 14, 21 and 25 score Not True = 2 and Certainly True = 0.
REVERSED: frozenset[int] = frozenset({7, 11, 14, 21, 25})
DIFFICULTY_SCALES = ("emotional", "conduct", "hyperactivity", "peer")

# [SYNTAX] a scale is scored when no more than 2 of its 5 items are missing
MIN_ANSWERED_PER_SCALE = 3

BANDS = ("close_to_average", "slightly_raised", "high", "very_high")
# [BANDS] the lowest total difficulties score of slightly raised, high and very high, per informant:
#   parent  0-13 | 14-16 | 17-19 | 20-40
#   teacher 0-11 | 12-15 | 16-18 | 19-40
#   self    0-14 | 15-17 | 18-19 | 20-40
TOTAL_BAND_FLOORS: dict[str, tuple[int, int, int]] = {
    "parent": (14, 17, 20),
    "teacher": (12, 16, 19),
    "self": (15, 18, 20),
}
# [BANDS] the impact score bands are the same for every informant: 0 | 1 | 2 | 3+
IMPACT_BAND_FLOORS = (1, 2, 3)

# [SCORING] the impact supplement: distress and the areas it interferes with (parent and self: home life,
# friendships, classroom learning, leisure activities; teacher: peer relationships, classroom learning).
# Each answered Not at all (0), Only a little (1), Quite a lot (2) or A great deal (3), scored 0, 0, 1, 2.
IMPACT_ITEMS: dict[str, tuple[str, ...]] = {
    "parent": ("distress", "home_life", "friendships", "classroom_learning", "leisure_activities"),
    "self": ("distress", "home_life", "friendships", "classroom_learning", "leisure_activities"),
    "teacher": ("distress", "peer_relationships", "classroom_learning"),
}
IMPACT_SCORE = {0: 0, 1: 0, 2: 1, 3: 2}


@dataclass(frozen=True)
class SdqScore:
    informant: str
    scales: dict[str, int | None]
    total_difficulties: int | None
    externalising: int | None
    internalising: int | None
    band: str | None
    impact: int | None = None
    impact_band: str | None = None
    prorated: tuple[str, ...] = ()

    def as_dict(self, with_impact: bool = False) -> dict:
        out = {"scales": dict(self.scales), "total_difficulties": self.total_difficulties,
               "externalising": self.externalising, "internalising": self.internalising, "band": self.band}
        if with_impact:
            out["impact"] = {"score": self.impact, "band": self.impact_band}
        return out


def _round_half_up(x: Decimal) -> int:
    # [SYNTAX] SPSS rnd(): halves away from zero (all scores are non-negative)
    return int(x.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def item_score(item: int, answer: int) -> int:
    """[SCORING] The score of one answered item (reverse-scored items turned round)."""
    return 2 - answer if item in REVERSED else answer


def scale_score(scale: str, answers: Mapping[int, int | None]) -> int | None:
    """[SYNTAX] The scale's sum; prorated (mean of the answered items x 5, rounded) when 1 or 2 items are
    missing; None when 3 or more are."""
    answered = [item_score(i, answers[i]) for i in SCALES[scale] if answers.get(i) is not None]
    if len(answered) < MIN_ANSWERED_PER_SCALE:
        return None
    if len(answered) == len(SCALES[scale]):
        return sum(answered)
    return _round_half_up(Decimal(sum(answered)) * len(SCALES[scale]) / len(answered))


def band_of_total(informant: str, total: int | None) -> str | None:
    """[BANDS] The four-band category of a total difficulties score for that informant."""
    if total is None:
        return None
    floors = TOTAL_BAND_FLOORS[informant]
    return BANDS[sum(1 for f in floors if total >= f)]


def _impact(informant: str, impact: Mapping[str, object] | None) -> tuple[int | None, str | None]:
    if impact is None:
        return None, None
    # [SCORING] "if the respondent has answered 'no' to the first question on the impact supplement (i.e. does
    # not perceive the individual as having any emotional or behavioural difficulties), the impact score is
    # automatically scored zero"
    if impact.get("difficulties") is False:
        return 0, BANDS[0]
    answers = [impact.get(name) for name in IMPACT_ITEMS[informant]]
    if any(a is None for a in answers):
        return None, None   # an incomplete supplement is not scored
    score = sum(IMPACT_SCORE[int(a)] for a in answers)
    return score, BANDS[sum(1 for f in IMPACT_BAND_FLOORS if score >= f)]


def parse_items(items: Mapping[str, object], field: str = "body.items") -> dict[int, int | None]:
    """Item numbers as strings "1".."25", each 0, 1, 2 or null. Every one of the 25 must be present
    (null for missing): a form with items silently left out is refused, not prorated."""
    out: dict[int, int | None] = {}
    for key, value in items.items():
        if not (isinstance(key, str) and key.isascii() and key.isdigit() and 1 <= int(key) <= 25 and str(int(key)) == key):
            raise OutcomeError(f"{field}.{key}", "sdq_item_number", "item numbers are the strings \"1\" to \"25\"")
        if value is not None and (isinstance(value, bool) or value not in (0, 1, 2)):
            raise OutcomeError(f"{field}.{key}", "sdq_item_value",
                               "each item is 0 (not true), 1 (somewhat true), 2 (certainly true) or null")
        out[int(key)] = value  # type: ignore[assignment]
    absent = [str(i) for i in ITEMS if i not in out]
    if absent:
        raise OutcomeError(f"{field}.{absent[0]}", "sdq_item_required",
                           f"all 25 items are given (null when not answered); missing: {', '.join(absent)}")
    return out


def parse_impact(informant: str, impact: Mapping[str, object] | None, field: str = "body.impact") -> dict | None:
    if impact is None:
        return None
    allowed = set(IMPACT_ITEMS[informant]) | {"difficulties"}
    for key, value in impact.items():
        if key not in allowed:
            raise OutcomeError(f"{field}.{key}", "sdq_impact_item",
                               f"the {informant} impact supplement has {', '.join(sorted(allowed))}")
        if key == "difficulties":
            if value is not None and not isinstance(value, bool):
                raise OutcomeError(f"{field}.{key}", "boolean", "true or false")
        elif value is not None and (isinstance(value, bool) or value not in (0, 1, 2, 3)):
            raise OutcomeError(f"{field}.{key}", "sdq_impact_value",
                               "0 (not at all), 1 (only a little), 2 (quite a lot), 3 (a great deal) or null")
    return dict(impact)


def score(informant: str, items: Mapping[int, int | None], impact: Mapping[str, object] | None = None) -> SdqScore:
    if informant not in INFORMANTS:
        raise OutcomeError("body.informant", "sdq_informant", "parent (a carer counts as parent), teacher or self")
    scales = {name: scale_score(name, items) for name in SCALES}
    prorated = tuple(name for name in SCALES if scales[name] is not None
                     and any(items.get(i) is None for i in SCALES[name]))
    diff = [scales[s] for s in DIFFICULTY_SCALES]
    # [SYNTAX] total difficulties = emotional + conduct + hyperactivity + peer, only when all four are scored
    total = sum(diff) if all(d is not None for d in diff) else None  # type: ignore[arg-type]
    # [EXT-INT] the broader subscales, each from its two scales
    ext = None if scales["conduct"] is None or scales["hyperactivity"] is None else \
        scales["conduct"] + scales["hyperactivity"]
    internal = None if scales["emotional"] is None or scales["peer"] is None else \
        scales["emotional"] + scales["peer"]
    impact_score, impact_band = _impact(informant, impact)
    return SdqScore(informant, scales, total, ext, internal, band_of_total(informant, total),
                    impact_score, impact_band, prorated)
