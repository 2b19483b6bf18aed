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

# SSDA903 reason for placement change codes (REASON_PLACE_CHANGE): an X1 ending that moves the child to another
# placement carries one (DfE rule 225); nothing else does (rules 226, 233).
REASON_PLACE_CHANGE: dict[str, str] = {
    "CARPL": "Change to/implementation of care plan",
    "CLOSE": "Resignation/closure of provision",
    "ALLEG": "Allegation (s47)",
    "STAND": "Standards of care concern",
    "APPRR": "Approval removed",
    "CREQB": "Carer(s) requests placement end due to child's behaviour",
    "CREQO": "Carer(s) requests placement end other than due to child's behaviour",
    "CHILD": "Child requests placement end",
    "LAREQ": "Responsible/area authority requests placement end",
    "PLACE": "Change in the status of placement only",
    "CUSTOD": "Custody arrangement",
    "OTHER": "Other",
}

# The codes a children's home placement (SSDA903 PLACE K2) may end with, per ending, following the DfE's
# validation rules: no E11/E12 (adopted) after anything but an adoption placement (rule 390); a hospital
# ending is not a death (E2) nor a transfer to adult residential care (E7); E17 ("remained with current
# carers") is never a step-down, which is a move; E5/E6 need the child aged 14 or over on the day care ends
# (rule 387), E17 18 or over (rule 460): see check_ending(age=...).
ADOPTION_CODES = frozenset({"E11", "E12"})
_STEP_DOWN_CODES: dict[Destination, frozenset[str]] = {
    Destination.return_home: frozenset({"E4A", "E13", "E41", "E45", "E46", "E47", "E48"}),
    Destination.foster_care: frozenset({"X1"}),
    Destination.supported_living: frozenset({"X1", "E5"}),
    Destination.independent_living: frozenset({"E5", "E6"}),
    Destination.residential_home: frozenset({"X1", "E3"}),
}
_UNPLANNED_CODES: dict[EndingType, frozenset[str]] = {
    EndingType.breakdown: frozenset({"X1", "E4B", "E13", "E8"}),
    EndingType.hospital: frozenset({"X1", "E8"}),
    EndingType.custody: frozenset({"E9", "E14", "X1"}),
    EndingType.secure: frozenset({"X1"}),
    EndingType.missing: frozenset({"X1", "E8"}),
    EndingType.other: frozenset(REASON_EPISODE_CEASED) - ADOPTION_CODES,
}
# the least age (in whole years on the end date) each code needs (DfE rules 387, 460) and, for a placement
# change, each reason for it (rule 234: no custody change under 10)
MIN_AGE_FOR_CODE: dict[str, int] = {"E5": 14, "E6": 14, "E17": 18}
MIN_AGE_FOR_PLACE_CHANGE: dict[str, int] = {"CUSTOD": 10}


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


def check_ending(ending_type: EndingType | str, destination: Destination | str | None, reason_code: str,
                 reason_place_change: str | None = None, *, age: int | None = None) -> None:
    """A planned ending names its destination; an unplanned one names none; the reason code fits both and
    the child's age on the end date (when known); an X1 ending names the reason for the placement change."""
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
        why = " (DfE rule 390: adopted only after an adoption placement)" if reason_code in ADOPTION_CODES else ""
        raise InvalidEnding("reason_code", "reason_code_for_ending",
                            f"{reason_code} does not fit a {ending_type.value} ending"
                            + (f" to {Destination(destination).value}" if destination else "")
                            + f"{why}; one of {', '.join(allowed)}")
    least = MIN_AGE_FOR_CODE.get(reason_code)
    if least is not None and age is not None and age < least:
        raise InvalidEnding("reason_code", "reason_code_for_age",
                            f"{reason_code} needs the child aged {least} or over on the end date; the child is {age}")
    if reason_code == "X1":
        if reason_place_change is None:
            raise InvalidEnding("reason_place_change", "required_for_x1",
                                "an X1 ending (a new episode the same day) names the reason for the placement "
                                f"change: one of {', '.join(REASON_PLACE_CHANGE)}")
        if reason_place_change not in REASON_PLACE_CHANGE:
            raise InvalidEnding("reason_place_change", "reason_place_change",
                                f"{reason_place_change!r} is not a reason for placement change; one of "
                                f"{', '.join(REASON_PLACE_CHANGE)}")
        least = MIN_AGE_FOR_PLACE_CHANGE.get(reason_place_change)
        if least is not None and age is not None and age < least:
            raise InvalidEnding("reason_place_change", "reason_place_change_for_age",
                                f"{reason_place_change} needs the child aged {least} or over (DfE rule 234); "
                                f"the child is {age}")
    elif reason_place_change is not None:
        raise InvalidEnding("reason_place_change", "only_for_x1",
                            "a reason for placement change goes with an X1 ending only (the child moves on "
                            "and stays looked after)")
