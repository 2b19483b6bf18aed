"""The Placements Data Standard v2 and our referral model, both ways. Pure.

The standard (Data Standards for Social Care with Social Finance and Somerset; SocialCareData/placements-standard,
v2 draft, effective 2025-07-18) describes a placement request in 41 fields over six entities. Its field names,
cardinalities and option strings below are facts of the standard, kept here as the project's own mapping (the
published placements.json is for reading, never copied in). Each field has a home in our model:

- a risk field (Risk Present / No known risk) is a code of the shared vocabulary (libs/common/vocabulary.py) in the
  referral's `risks` (present) or `no_known_risks` (asked, none known); a risk field not sent is "not asked";
- every other field is a key of the referral's `placement_request` (our words: PLACEMENT_REQUEST_KEYS), its options
  coded (OPTIONS maps each standard option string to our code and back).

`to_ours` reads a standard block (already checked against the options: `option_of`), `to_standard` writes one back
from what the referral stores; to_standard(to_ours(x)) == x for every complete block (the round trip is tested).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

STANDARD_NAME = "Placements Data Standard"
STANDARD_VERSION = "v2"
STANDARD_EFFECTIVE = "2025-07-18"
STANDARD_SOURCE = "https://github.com/SocialCareData/placements-standard"

RISK_PRESENT, NO_KNOWN_RISK = "Risk Present", "No known risk"
RISK_OPTIONS = (NO_KNOWN_RISK, RISK_PRESENT)
SUITABILITY = {"Preferred": "preferred", "Suitable but not preferred": "suitable_not_preferred",
               "Unsuitable": "unsuitable", "Not specified": "not_specified"}


@dataclass(frozen=True)
class StandardField:
    entity: str
    name: str
    kind: str             # categorical | categorical_many | risk | boolean | integer | string | date
    cardinality: str      # the standard's: 1..1 (a MUST), 0..1, 1..*
    ours: str             # where it lives: placement_request.<key>[.<key>], or risks (a vocabulary code) for risks
    options: dict[str, str] | None = None   # standard option -> our code (categorical fields)
    risk_code: str | None = None             # risk fields: the vocabulary code; string risks: the code of "other"

    @property
    def must(self) -> bool:
        return self.cardinality.startswith("1")


def _f(entity, name, kind, cardinality, ours, options=None, risk_code=None) -> StandardField:
    return StandardField(entity, name, kind, cardinality, ours, options, risk_code)


def _risk(name: str, code: str) -> StandardField:
    return _f("Risks", name, "risk", "1..1", "risks", {NO_KNOWN_RISK: "no_known_risk", RISK_PRESENT: "risk_present"},
              code)


FIELDS: tuple[StandardField, ...] = (
    # PlacementAvailability
    _f("PlacementAvailability", "childId", "integer", "1..1", "placement_request.child_id"),
    _f("PlacementAvailability", "neededBy", "categorical", "0..1", "placement_request.needed_by",
       {"Today": "today", "in less than 5 days": "within_5_days", "in more than 5 days": "after_5_days"}),
    _f("PlacementAvailability", "siblingCount", "integer", "0..1", "placement_request.sibling_count"),
    _f("PlacementAvailability", "preferredLocation", "string", "0..1", "placement_request.preferred_location"),
    # PlacementRequirements
    _f("PlacementRequirements", "communicationNeeds", "categorical", "1..1", "placement_request.communication_needs",
       {"Y": "yes", "N": "no", "Not Specified": "not_specified"}),
    _f("PlacementRequirements", "specificCommunicationRequirements", "categorical_many", "1..*",
       "placement_request.communication_requirements",
       {"ESOL": "esol", "BSL": "bsl", "Makaton": "makaton", "Other": "other", "None": "none"}),
    _f("PlacementRequirements", "homeAdaptation", "boolean", "1..1", "placement_request.home_adaptation"),
    _f("PlacementRequirements", "culturalNeeds", "categorical", "1..1", "placement_request.cultural_needs",
       {"Required": "required", "Not required": "not_required", "Not Known": "not_known", "Other": "other"}),
    _f("PlacementRequirements", "livingCompanions", "categorical", "1..1", "placement_request.living_companions",
       {"Solo placement recommended": "solo", "With other children recommended": "with_other_children",
        "Only with other older children": "older_children_only",
        "Only with other younger children": "younger_children_only", "No preference": "no_preference"}),
    _f("PlacementRequirements", "pets", "categorical", "1..1", "placement_request.pets",
       {"Yes - must": "must_live_with_pets", "Yes - can": "can_live_with_pets", "No": "no_pets",
        "Not Known": "not_known"}),
    _f("PlacementRequirements", "additionalSupport", "categorical", "0..1", "placement_request.additional_support",
       {"additional supervision": "additional_supervision", "therapeutic support": "therapeutic_support",
        "a worker for respite": "respite_worker", "taxis to school": "taxis_to_school", "NA": "none",
        "other (please specify)": "other"}),
    _f("PlacementRequirements", "deprivationOfLiberty", "boolean", "0..1", "placement_request.deprivation_of_liberty"),
    # PlacementRecommendation
    _f("PlacementRecommendation", "fosterCareSuitability", "categorical", "1..1",
       "placement_request.suitability.foster_care", SUITABILITY),
    _f("PlacementRecommendation", "residentialCareSuitability", "categorical", "1..1",
       "placement_request.suitability.residential_care", SUITABILITY),
    _f("PlacementRecommendation", "supportedAccommodationSuitability", "categorical", "1..1",
       "placement_request.suitability.supported_accommodation", SUITABILITY),
    # Risks: to the child
    _risk("riskSelfHarm", "self_harm"),
    _risk("riskSexualExploitation", "sexual_exploitation_risk"),
    _risk("riskCriminalExploitation", "criminal_exploitation_risk"),
    _risk("riskDrugAlcohol", "substance_misuse"),
    _risk("riskEatingDisorder", "eating_disorder"),
    _risk("riskMissing", "missing_episodes"),
    _f("Risks", "riskOther", "string", "0..1", "placement_request.risk_to_child_other", risk_code="other_risk_to_child"),
    # Risks: to others or property
    _risk("riskToOthersPhysical", "violence_to_others"),
    _risk("riskToOthersSexual", "harmful_sexual_behaviour"),
    _risk("riskToOthersFire", "fire_setting"),
    _risk("riskToOthersAnimals", "harm_to_animals"),
    _risk("riskToOthersCriminal", "criminal_risk_to_others"),
    _f("Risks", "riskToOthersOther", "string", "0..1", "placement_request.risk_to_others_other",
       risk_code="other_risk_to_others"),
    # ActualPlacement
    _f("ActualPlacement", "totalWeeklyCost", "integer", "1..1", "placement_request.actual_placement.weekly_cost_pence"),
    _f("ActualPlacement", "placementLocation", "string", "1..1", "placement_request.actual_placement.location"),
    _f("ActualPlacement", "preferabilityLocation", "boolean", "1..1",
       "placement_request.actual_placement.location_preferred"),
    _f("ActualPlacement", "educationContinuity", "boolean", "1..1",
       "placement_request.actual_placement.education_continuity"),
    _f("ActualPlacement", "providerURN", "string", "1..1", "placement_request.actual_placement.provider_urn"),
    _f("ActualPlacement", "siblingsPlacedTogether", "integer", "1..1",
       "placement_request.actual_placement.siblings_placed_together"),
    _f("ActualPlacement", "placementType", "categorical", "1..1", "placement_request.actual_placement.placement_type",
       {"Residential": "residential", "Foster": "foster", "Supported Accommodation": "supported_accommodation"}),
    # QualityAssurance
    _f("QualityAssurance", "referralOfficerName", "string", "0..1", "placement_request.data_entry.referral_officer"),
    _f("QualityAssurance", "referralDate", "date", "1..1", "placement_request.data_entry.referral_date"),
    _f("QualityAssurance", "placementOfficerName", "string", "1..1", "placement_request.data_entry.placement_officer"),
    _f("QualityAssurance", "placementDate", "date", "1..1", "placement_request.data_entry.placement_date"),
    _f("QualityAssurance", "costOfficerName", "string", "0..1", "placement_request.data_entry.cost_officer"),
    _f("QualityAssurance", "costDate", "date", "1..1", "placement_request.data_entry.cost_date"),
)
BY_NAME: dict[str, StandardField] = {f.name: f for f in FIELDS}

# On intake a referral needs the standard's MUST fields that bear on matching and the child's id; the rest of the
# 1..1 fields describe the agreed placement (ActualPlacement, the placement's and cost's data entry) or are risks,
# where a field not sent is recorded as "not asked" (distinct from "No known risk").
REQUIRED_ON_INTAKE = ("childId", "livingCompanions", "pets")

# neededBy is also the referral's urgency when the request names none
URGENCY_OF_NEEDED_BY = {"today": "crisis", "within_5_days": "urgent", "after_5_days": "planned"}
# totalWeeklyCost is whole pounds in the standard; we keep pence (an integer)
PENCE_PER_POUND = 100


class StandardValueError(ValueError):
    """A value the standard does not allow: names the field, the value and (categorical) the allowed values."""

    def __init__(self, field_name: str, rule: str, message: str, value: Any = None,
                 allowed: list[str] | None = None):
        super().__init__(message)
        self.field, self.rule, self.value, self.allowed = field_name, rule, value, allowed


def option_of(field_name: str, value: Any) -> str:
    """The standard's own spelling of an option (matched ignoring case and surrounding spaces: the standard's prose
    and its JSON differ in case, for example "Risk present"); StandardValueError naming the allowed ones else."""
    f = BY_NAME[field_name]
    allowed = list(f.options or ())
    if isinstance(value, str):
        wanted = value.strip().casefold()
        for option in allowed:
            if option.casefold() == wanted:
                return option
    shown = value if isinstance(value, (str, int, float, bool)) or value is None else str(value)[:60]
    raise StandardValueError(field_name, "standard_option",
                             f"{shown!r} is not an option of {field_name}; allowed: {', '.join(allowed)}",
                             value=shown, allowed=allowed)


def our_code(field_name: str, option: str) -> str:
    return BY_NAME[field_name].options[option]


def standard_option(field_name: str, code: str) -> str:
    """Our code back to the standard's option string."""
    for option, ours in BY_NAME[field_name].options.items():
        if ours == code:
            return option
    raise KeyError(f"{field_name}: no option for {code!r}")


# --- our model: the keys of a referral's placement_request and their codes --------------------------------
def _codes(field_name: str) -> tuple[str, ...]:
    return tuple(BY_NAME[field_name].options.values())


NEEDED_BY = _codes("neededBy")
COMMUNICATION_NEEDS = _codes("communicationNeeds")
COMMUNICATION_REQUIREMENTS = _codes("specificCommunicationRequirements")
CULTURAL_NEEDS = _codes("culturalNeeds")
LIVING_COMPANIONS = _codes("livingCompanions")
PETS = _codes("pets")
ADDITIONAL_SUPPORT = _codes("additionalSupport")
SUITABILITIES = tuple(SUITABILITY.values())
PLACEMENT_TYPES = _codes("placementType")
RISK_FIELDS: dict[str, str] = {f.name: f.risk_code for f in FIELDS if f.kind == "risk"}
OTHER_RISK_FIELDS: dict[str, str] = {f.name: f.risk_code for f in FIELDS if f.kind == "string" and f.risk_code}
STANDARD_RISK_CODES = frozenset(RISK_FIELDS.values()) | frozenset(OTHER_RISK_FIELDS.values())


@dataclass(frozen=True)
class Intake:
    """A standard block in our model: the placement_request, the risk codes present and those asked with none
    known, and what it implies for the referral's own fields when the request leaves them out."""

    placement_request: dict
    risks_present: tuple[str, ...]
    no_known_risks: tuple[str, ...]
    urgency: str | None
    child_ref: str


def _set(target: dict, path: str, value: Any) -> None:
    keys = path.split(".")[1:]  # drop "placement_request"
    for k in keys[:-1]:
        target = target.setdefault(k, {})
    target[keys[-1]] = value


def _get(source: dict, path: str) -> Any:
    value: Any = source
    for k in path.split(".")[1:]:
        if not isinstance(value, dict) or k not in value:
            return None
        value = value[k]
    return value


def to_ours(block: dict) -> Intake:
    """A standard block (standard names; options in the standard's spelling, other values already typed) in our
    model. Fields not sent stay out (None is "not sent"); a risk field not sent is "not asked"."""
    request: dict = {}
    present: list[str] = []
    none_known: list[str] = []
    for f in FIELDS:
        value = block.get(f.name)
        if value is None:
            continue
        if f.kind == "risk":
            (present if f.options[value] == "risk_present" else none_known).append(f.risk_code)
        elif f.kind == "categorical":
            _set(request, f.ours, f.options[value])
        elif f.kind == "categorical_many":
            _set(request, f.ours, [f.options[v] for v in value])
        elif f.name == "totalWeeklyCost":
            _set(request, f.ours, int(value) * PENCE_PER_POUND)
        else:
            _set(request, f.ours, value)
            if f.risk_code:  # riskOther / riskToOthersOther: the text, and the "other" code present
                present.append(f.risk_code)
    needed_by = request.get("needed_by")
    return Intake(placement_request=request, risks_present=tuple(present), no_known_risks=tuple(none_known),
                  urgency=URGENCY_OF_NEEDED_BY.get(needed_by) if needed_by else None,
                  child_ref=str(block["childId"]) if block.get("childId") is not None else "")


def to_standard(placement_request: dict | None, risks: set[str] | frozenset[str],
                no_known_risks: set[str] | frozenset[str]) -> dict:
    """What a referral stores, in the standard's names and options. A risk is Risk Present when its code is among
    the referral's risks, No known risk when among its no_known_risks, and left out (not asked) otherwise."""
    request = placement_request or {}
    out: dict = {}
    for f in FIELDS:
        if f.kind == "risk":
            if f.risk_code in risks:
                out[f.name] = RISK_PRESENT
            elif f.risk_code in no_known_risks:
                out[f.name] = NO_KNOWN_RISK
            continue
        value = _get(request, f.ours)
        if f.risk_code and value is None and f.risk_code in risks:
            value = "(not specified)"  # the "other" risk was coded without its text
        if value is None:
            continue
        if f.kind == "categorical":
            out[f.name] = standard_option(f.name, value)
        elif f.kind == "categorical_many":
            out[f.name] = [standard_option(f.name, v) for v in value]
        elif f.name == "totalWeeklyCost":
            out[f.name] = round(value / PENCE_PER_POUND)  # the standard counts whole pounds
        elif f.kind == "date" and isinstance(value, str):
            out[f.name] = date.fromisoformat(value)
        else:
            out[f.name] = value
    return out


def contradictions(risks: set[str], no_known_risks: set[str]) -> list[str]:
    """Codes recorded both as a risk present and as no known risk."""
    return sorted(risks & no_known_risks)


def mapping() -> list[dict]:
    """The whole mapping, for GET /v1/referrals/vocabulary: each field with its entity, cardinality, where it lives
    in our model and (categorical) each option with our code; each risk field with its vocabulary code."""
    out = []
    for f in FIELDS:
        entry: dict[str, Any] = {"entity": f.entity, "field": f.name, "type": f.kind, "cardinality": f.cardinality,
                                 "must": f.must, "required_on_intake": f.name in REQUIRED_ON_INTAKE, "ours": f.ours}
        if f.options:
            entry["options"] = [{"option": o, "code": c} for o, c in f.options.items()]
        if f.kind == "risk":
            entry["ours"] = f"risks (present) / no_known_risks: {f.risk_code}"
            entry["risk_code"] = f.risk_code
        elif f.risk_code:
            entry["risk_code"] = f.risk_code
        out.append(entry)
    return out


def codes_to_standard() -> dict[str, dict[str, dict[str, str]]]:
    """Our codes back to the standard: {where in our model: {our code: {field, option}}}; under "risks" each
    vocabulary code with its field and the option meaning present (and, for the categorical risks, none known)."""
    out: dict[str, dict[str, dict[str, str]]] = {}
    for f in FIELDS:
        if f.kind in ("categorical", "categorical_many"):
            out.setdefault(f.ours, {}).update({c: {"field": f.name, "option": o} for o, c in f.options.items()})
    out["risks"] = {f.risk_code: ({"field": f.name, "present": RISK_PRESENT, "none_known": NO_KNOWN_RISK}
                                  if f.kind == "risk" else {"field": f.name, "present": "(the text)"})
                    for f in FIELDS if f.risk_code}
    return out


def field_of_risk(code: str) -> str | None:
    """The standard's field that asks about a risk code (None for codes the standard does not ask about)."""
    return next((f.name for f in FIELDS if f.risk_code == code), None)


def merge_risks(risks: list[dict], no_known_risks: list[str], intake: Intake | None) -> tuple[list[dict], list[str]]:
    """The referral's risks and no_known_risks with a standard block's answers added (a risk present that the
    referral lists already keeps the referral's severity; the standard has none, so an added one is medium).
    StandardValueError when a code would be both present and of no known risk."""
    out = list(risks)
    listed = {r["code"] for r in out}
    none_known = list(dict.fromkeys(no_known_risks))
    if intake is not None:
        for code in intake.risks_present:
            if code not in listed:
                out.append({"code": code, "severity": "medium"})
                listed.add(code)
        for code in intake.no_known_risks:
            if code in listed:
                name = field_of_risk(code)
                raise StandardValueError(f"placements_standard.{name}", "contradicts_risks",
                                         f"{name} says {NO_KNOWN_RISK!r} but risks lists {code}", value=NO_KNOWN_RISK)
            if code not in none_known:
                none_known.append(code)
    both = contradictions(listed, set(none_known))
    if both:
        raise StandardValueError("no_known_risks", "contradicts_risks",
                                 f"listed both as a risk and as no known risk: {', '.join(both)}", value=both[0])
    return out, none_known


def requirements_of(placement_request: dict | None) -> dict | None:
    """The coded requirements matching weighs (the event's placement_requirements): never free text."""
    if not placement_request:
        return None
    keys = ("living_companions", "pets", "deprivation_of_liberty", "sibling_count", "communication_needs",
            "home_adaptation", "cultural_needs", "additional_support")
    out = {k: placement_request.get(k) for k in keys}
    out["communication_requirements"] = list(placement_request.get("communication_requirements") or [])
    out["residential_care_suitability"] = (placement_request.get("suitability") or {}).get("residential_care")
    return out
