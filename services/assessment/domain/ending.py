"""How a placement ends. Pure.

Planned endings are step-downs to a destination; unplanned endings are counted by their type
(preventing breakdowns is the point of the pathway). Each ending carries the council's
looked-after children return code for why the episode of care ceased (the SSDA903 "reason episode
ceased" codes, REC). A child who moves on but stays looked after (a step across to foster care,
another residential home, a secure children's home, hospital) starts a new episode the same day: X1.
"""
from __future__ import annotations

from enum import Enum


class Destination(str, Enum):
    return_home = "return_home"               # to parents or wider family
    foster_care = "foster_care"               # the "step across" from residential care to fostering
    supported_living = "supported_living"
    independent_living = "independent_living"
    residential_home = "residential_home"     # another children's home


class EndingType(str, Enum):
    step_down = "step_down"                   # the one planned ending
    breakdown = "breakdown"
    hospital = "hospital"
    custody = "custody"
    secure = "secure"
    missing = "missing"
    other = "other"


PLANNED = frozenset({EndingType.step_down})

# SSDA903 (children looked after return) reason episode ceased codes.
REASON_EPISODE_CEASED: dict[str, str] = {
    "E11": "Adopted - application for an adoption order unopposed",
    "E12": "Adopted - consent dispensed with by the court",
    "E13": "Left care to live with parent(s), relative(s), or other person(s) with no parental responsibility",
    "E14": "Accommodation on remand ended",
    "E15": "Age assessment determined child is aged 18 or over and E5, E6 and E7 do not apply",
    "E16": "Child moved abroad",
    "E17": "Aged 18 (or over) and remained with current carers (inc under staying put arrangements)",
    "E2": "Died",
    "E3": "Care taken over by another local authority in the UK",
    "E41": "Residence order (or child arrangements order setting out with whom the child is to live) granted",
    "E45": "Special guardianship order made to former foster carer(s), who was/are a relative(s) or friend(s)",
    "E46": "Special guardianship order made to former foster carer(s), other than relative(s) or friend(s)",
    "E47": "Special guardianship order made to carer(s), other than former foster carer(s), who was/are a "
           "relative(s) or friend(s)",
    "E48": "Special guardianship order made to carer(s), other than former foster carer(s), other than "
           "relative(s) or friend(s)",
    "E4A": "Returned home to live with parent(s), relative(s), or other person(s) with parental responsibility "
           "as part of the care planning process",
    "E4B": "Returned home to live with parent(s), relative(s), or other person(s) with parental responsibility "
           "which was not part of the current care planning process",
    "E5": "Moved into independent living arrangement and no longer looked-after: supportive accommodation "
          "providing formalised advice/support arrangements",
    "E6": "Moved into independent living arrangement and no longer looked-after: accommodation providing no "
          "formalised advice/support arrangements",
    "E7": "Transferred to residential care funded by adult social care services",
    "E8": "Period of being looked-after ceased for any other reason (where none of the other reasons apply)",
    "E9": "Sentenced to custody",
    "X1": "Episode ceases, and new episode begins on same day, for any reason",
}

_STEP_DOWN_CODES: dict[Destination, frozenset[str]] = {
    Destination.return_home: frozenset({"E4A", "E13", "E41", "E45", "E46", "E47", "E48"}),
    Destination.foster_care: frozenset({"X1"}),
    Destination.supported_living: frozenset({"X1", "E5", "E17"}),
    Destination.independent_living: frozenset({"E5", "E6", "E17"}),
    Destination.residential_home: frozenset({"X1", "E3"}),
}
_UNPLANNED_CODES: dict[EndingType, frozenset[str]] = {
    EndingType.breakdown: frozenset({"X1", "E4B", "E13", "E8"}),
    EndingType.hospital: frozenset({"X1", "E7", "E2", "E8"}),
    EndingType.custody: frozenset({"E9", "E14", "X1"}),
    EndingType.secure: frozenset({"X1"}),
    EndingType.missing: frozenset({"X1", "E8"}),
    EndingType.other: frozenset(REASON_EPISODE_CEASED),
}


class InvalidEnding(ValueError):
    def __init__(self, field_name: str, rule: str, message: str):
        self.field = field_name
        self.rule = rule
        super().__init__(message)


def allowed_reason_codes(ending_type: EndingType | str, destination: Destination | str | None) -> list[str]:
    ending_type = EndingType(ending_type)
    if ending_type in PLANNED:
        if destination is None:
            return []
        return sorted(_STEP_DOWN_CODES[Destination(destination)])
    return sorted(_UNPLANNED_CODES[ending_type])


def check_ending(ending_type: EndingType | str, destination: Destination | str | None, reason_code: str) -> None:
    """A planned ending names its destination; an unplanned one names none; the reason code fits both."""
    ending_type = EndingType(ending_type)
    if ending_type in PLANNED and destination is None:
        raise InvalidEnding("destination", "required_for_step_down", "a step-down names its destination")
    if ending_type not in PLANNED and destination is not None:
        raise InvalidEnding("destination", "only_for_step_down", "only a planned step-down has a destination")
    if reason_code not in REASON_EPISODE_CEASED:
        raise InvalidEnding("reason_code", "reason_episode_ceased", f"{reason_code!r} is not a reason episode "
                            "ceased code")
    allowed = allowed_reason_codes(ending_type, destination)
    if reason_code not in allowed:
        raise InvalidEnding("reason_code", "reason_code_for_ending",
                            f"{reason_code} does not fit a {ending_type.value} ending"
                            + (f" to {Destination(destination).value}" if destination else "")
                            + f"; one of {', '.join(allowed)}")
