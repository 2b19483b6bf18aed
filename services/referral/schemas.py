"""Request and response models of /v1/referrals. Rules come from the pure domain; this module only
turns a broken rule into a validation problem naming the field and the rule."""
from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, create_model, field_validator,
                      model_validator)
from pydantic_core import PydanticCustomError

from libs.common.events.catalogue import NeedOrRisk
from libs.common.pagination import Page
from libs.common.restrictions import OmitsRestricted
from libs.common.vocabulary import CURRENT_SETTINGS, MAX_AT_RISK
from libs.common.vocabulary import expand_deprecated

from .domain import placements_standard as ps

from .domain.outreach import MAX_PLANNED_WEEKS, check_at_risk
from .domain.restriction import REASONS as RESTRICTION_REASONS
from .domain.restriction import REQUESTERS
from .domain.restriction import SCOPES as RESTRICTION_SCOPES
from .domain.referral import (MAX_NEEDS, MAX_RISKS, InvalidCode, InvalidLegalStatus, InvalidPostcode,
                              UnknownNeedOrRisk, check_category_of_need, check_legal_status, check_needs_or_risks,
                              check_sex, outward_code)

Urgency = Literal["crisis", "urgent", "planned"]
Kind = Literal["bed", "outreach"]
CurrentSetting = Literal[tuple(CURRENT_SETTINGS)]  # type: ignore[valid-type]
OutreachBasis = Literal["fixed_fee", "weekly"]


def _sex(value: object) -> object:
    if not isinstance(value, str):
        return value
    try:
        return check_sex(value)
    except InvalidCode as exc:
        raise PydanticCustomError("literal_error", str(exc)) from None  # the rule name clients already know


# the return's codes M, F, U or the words; stored and answered as the word (female, male, unknown)
Sex = Annotated[Literal["female", "male", "unknown"], BeforeValidator(_sex),
                Field(description="M, F or U (the SSDA903 codes), or female, male or unknown; answered as the word")]
StatusName = Literal["received", "in_assessment", "accepted", "declined", "withdrawn", "expired"]
WithdrawalReason = Literal["placed_elsewhere", "needs_changed", "returned_home", "duplicate", "no_longer_needed",
                           "other"]

EXAMPLE = {
    "child_ref": "LCC-2026-00417", "date_of_birth": "2012-03-14", "sex": "female",
    "legal_status": "C2", "home_postcode": "LE4 6AB", "urgency": "crisis", "wanted_start_date": "2026-11-23",
    "needs": [{"code": "mental_health", "severity": "high"}],
    "risks": [{"code": "missing_episodes", "severity": "medium"}],
    "summary": "Placement breakdown last night; needs a crisis bed today.",
    "social_worker": {"name": "Sam Patel", "email": "sam.patel@leics.gov.uk", "phone": "0116 305 0000"},
}


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date(value: object) -> date:
    """A query parameter's day: YYYY-MM-DD only. Pydantic's lax mode would read `0` or `1700000000` as a
    Unix time and `20261123` as a day; a filter that silently means something else is worse than a 422."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise PydanticCustomError("iso_date", "a day as YYYY-MM-DD, for example 2026-11-23")


QueryDate = Annotated[date, BeforeValidator(_iso_date)]
"""A date in a query string, strictly YYYY-MM-DD."""


class SocialWorker(BaseModel):
    """The child's social worker: adult professional contact data, kept by the referral service only."""
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=120)
    email: str = Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", examples=["sam.patel@leics.gov.uk"])
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9 ()-]{7,20}$", examples=["0116 305 0000"])

    @field_validator("name", "email")
    @classmethod
    def _check_printable(cls, value):
        return _printable(value)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _printable(value: str | None) -> str | None:
    """Free text may hold line breaks and tabs but no other control characters (a NUL cannot be stored)."""
    if value is not None and _CONTROL.search(value):
        raise PydanticCustomError("no_control_characters", "control characters are not allowed")
    return value


def _postcode(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return outward_code(value)
    except InvalidPostcode as exc:
        raise PydanticCustomError("uk_postcode", str(exc)) from None


def _legal_status(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return check_legal_status(value)
    except InvalidLegalStatus as exc:
        raise PydanticCustomError("legal_status_code", str(exc)) from None


def _vocabulary(items: list[NeedOrRisk] | None) -> list[NeedOrRisk] | None:
    """Known codes, each once; a retired code (exploitation_risk) is replaced by the codes it was split into."""
    if items is None:
        return None
    try:
        check_needs_or_risks([i.code for i in items], allow_deprecated=True)
    except UnknownNeedOrRisk as exc:
        raise PydanticCustomError("controlled_vocabulary", str(exc)) from None
    return [NeedOrRisk(**i) for i in expand_deprecated([i.model_dump() for i in items])]


def _risk_codes(codes: list[str] | None) -> list[str] | None:
    if codes is None:
        return None
    try:
        check_needs_or_risks(list(codes), allow_deprecated=True)
    except UnknownNeedOrRisk as exc:
        raise PydanticCustomError("controlled_vocabulary", str(exc)) from None
    return [i["code"] for i in expand_deprecated([{"code": c} for c in codes])]


# --- the Placements Data Standard (v2): our model of a placement request, and the standard's own block ------------
class Suitability(BaseModel):
    model_config = ConfigDict(extra="forbid")
    foster_care: Literal[ps.SUITABILITIES] | None = None  # type: ignore[valid-type]
    residential_care: Literal[ps.SUITABILITIES] | None = None  # type: ignore[valid-type]
    supported_accommodation: Literal[ps.SUITABILITIES] | None = None  # type: ignore[valid-type]


URN_PATTERN = r"^(SC\d{6}|\d{7})$"  # Ofsted's two forms (as matching's homes)


class ActualPlacement(BaseModel):
    """The placement agreed (the standard's ActualPlacement), when the request already names one."""
    model_config = ConfigDict(extra="forbid")
    weekly_cost_pence: int | None = Field(default=None, ge=0, le=100_000_000, description=(
        "The actual weekly fee, in pence (the standard's totalWeeklyCost is whole pounds)"))
    location: str | None = Field(default=None, min_length=1, max_length=500, description="Free text; never logged")
    location_preferred: bool | None = None
    education_continuity: bool | None = None
    provider_urn: str | None = Field(default=None, pattern=URN_PATTERN, examples=["SC123456", "2512345"])
    siblings_placed_together: int | None = Field(default=None, ge=0, le=20)
    placement_type: Literal[ps.PLACEMENT_TYPES] | None = None  # type: ignore[valid-type]


class DataEntry(BaseModel):
    """Who entered the request and when (the standard's QualityAssurance): council officers' names."""
    model_config = ConfigDict(extra="forbid")
    referral_officer: str | None = Field(default=None, min_length=1, max_length=120)
    referral_date: date | None = None
    placement_officer: str | None = Field(default=None, min_length=1, max_length=120)
    placement_date: date | None = None
    cost_officer: str | None = Field(default=None, min_length=1, max_length=120)
    cost_date: date | None = None


class PlacementRequest(BaseModel):
    """A placement request in our words: the Placements Data Standard's fields other than its risks (which are the
    referral's `risks` and `no_known_risks`). GET /v1/referrals/vocabulary maps each key and code to the standard."""
    model_config = ConfigDict(extra="forbid")
    child_id: int | None = Field(default=None, ge=0, description="The standard's childId (the council's number)")
    needed_by: Literal[ps.NEEDED_BY] | None = None  # type: ignore[valid-type]
    sibling_count: int | None = Field(default=None, ge=0, le=20, description="Siblings to be placed with the child")
    preferred_location: str | None = Field(default=None, min_length=1, max_length=500,
                                           description="Free text; never logged or put in an event")
    communication_needs: Literal[ps.COMMUNICATION_NEEDS] | None = None  # type: ignore[valid-type]
    communication_requirements: list[Literal[ps.COMMUNICATION_REQUIREMENTS]] | None = Field(  # type: ignore[valid-type]
        default=None, max_length=len(ps.COMMUNICATION_REQUIREMENTS))
    home_adaptation: bool | None = None
    cultural_needs: Literal[ps.CULTURAL_NEEDS] | None = None  # type: ignore[valid-type]
    living_companions: Literal[ps.LIVING_COMPANIONS] | None = Field(  # type: ignore[valid-type]
        default=None, description="solo: the child must live alone (a home registered for one child)")
    pets: Literal[ps.PETS] | None = Field(  # type: ignore[valid-type]
        default=None, description="no_pets: never offered a home with pets; must_live_with_pets: only one with pets")
    additional_support: Literal[ps.ADDITIONAL_SUPPORT] | None = None  # type: ignore[valid-type]
    deprivation_of_liberty: bool | None = Field(default=None, description=(
        "A Deprivation of Liberty order: only homes that accept one are offered"))
    suitability: Suitability | None = None
    risk_to_child_other: str | None = Field(default=None, min_length=1, max_length=1000, description=(
        "The standard's riskOther: free text (risk code other_risk_to_child); never logged or put in an event"))
    risk_to_others_other: str | None = Field(default=None, min_length=1, max_length=1000, description=(
        "The standard's riskToOthersOther: free text (risk code other_risk_to_others)"))
    actual_placement: ActualPlacement | None = None
    data_entry: DataEntry | None = None

    @field_validator("preferred_location", "risk_to_child_other", "risk_to_others_other")
    @classmethod
    def _check_printable(cls, value):
        return _printable(value)

    @field_validator("communication_requirements")
    @classmethod
    def _once(cls, value):
        if value is not None and len(set(value)) != len(value):
            raise PydanticCustomError("unique_items", "each requirement once")
        return value


def _standard_option(field_name: str):
    def check(value):
        try:
            return ps.option_of(field_name, value)
        except ps.StandardValueError as exc:
            raise PydanticCustomError("standard_option", str(exc), {"value": exc.value, "allowed": exc.allowed}) \
                from None
    return check


def _standard_bool(value):
    """The standard's Booleans: true/false, or the prose's Y/N and Yes/No."""
    if isinstance(value, str) and value.strip().casefold() in ("y", "yes", "n", "no"):
        return value.strip().casefold().startswith("y")
    return value


def _standard_type(f: ps.StandardField, required: bool):
    doc = f"{f.entity}.{f.name} ({f.cardinality}{', MUST' if f.must else ''}): {f.ours}"
    if f.kind in ("categorical", "risk"):
        kind = Annotated[Literal[tuple(f.options)], BeforeValidator(_standard_option(f.name))]  # type: ignore
    elif f.kind == "categorical_many":
        kind = Annotated[list[Annotated[Literal[tuple(f.options)],  # type: ignore
                                        BeforeValidator(_standard_option(f.name))]],
                         Field(min_length=1, max_length=len(f.options))]
    elif f.kind == "boolean":
        kind = Annotated[bool, BeforeValidator(_standard_bool)]
    elif f.kind == "integer":
        kind = Annotated[int, Field(ge=0, le=1_000_000 if f.name == "totalWeeklyCost" else
                                    (20 if "ibling" in f.name else 2**53))]
    elif f.kind == "date":
        kind = Annotated[date, BeforeValidator(_iso_date)]
    elif f.name == "providerURN":
        kind = Annotated[str, Field(pattern=URN_PATTERN, description="SC and six digits, or seven digits")]
    else:
        kind = Annotated[str, Field(min_length=1, max_length=1000), BeforeValidator(_printable)]
    if required:
        return (kind, Field(description=doc))
    return (kind | None, Field(default=None, description=doc))


def _standard_model(name: str, *, intake: bool) -> type[BaseModel]:
    fields = {f.name: _standard_type(f, intake and f.name in ps.REQUIRED_ON_INTAKE) for f in ps.FIELDS}
    return create_model(name, __config__=ConfigDict(extra="forbid"), **fields)  # type: ignore[call-overload]


PlacementsStandard = _standard_model("PlacementsStandard", intake=True)
PlacementsStandard.__doc__ = (
    "A placement request in the Placements Data Standard v2's own field names and option strings (options are "
    "matched ignoring case). Required: childId and the MUST fields livingCompanions and pets; a risk field not "
    "sent is recorded as not asked. GET /v1/referrals/vocabulary publishes the mapping to our model.")
PlacementsStandardOut = _standard_model("PlacementsStandardOut", intake=False)
PlacementsStandardOut.__doc__ = "What the referral holds, in the Placements Data Standard v2's names and options."

STANDARD_EXAMPLE = {
    "childId": 417, "neededBy": "Today", "siblingCount": 0, "preferredLocation": "Near Loughborough",
    "communicationNeeds": "Y", "specificCommunicationRequirements": ["BSL"], "homeAdaptation": False,
    "culturalNeeds": "Not required", "livingCompanions": "Only with other older children", "pets": "No",
    "additionalSupport": "therapeutic support", "deprivationOfLiberty": False,
    "fosterCareSuitability": "Unsuitable", "residentialCareSuitability": "Preferred",
    "supportedAccommodationSuitability": "Unsuitable", "riskSelfHarm": "Risk Present",
    "riskSexualExploitation": "No known risk", "riskCriminalExploitation": "Risk Present",
    "riskDrugAlcohol": "No known risk", "riskEatingDisorder": "No known risk", "riskMissing": "Risk Present",
    "riskToOthersPhysical": "No known risk", "riskToOthersSexual": "No known risk", "riskToOthersFire": "No known risk",
    "riskToOthersAnimals": "No known risk", "riskToOthersCriminal": "No known risk", "referralDate": "2026-11-23",
    "referralOfficerName": "J. Officer"}


class _ReferralFields(BaseModel):
    @field_validator("home_postcode", check_fields=False)
    @classmethod
    def _check_postcode(cls, value):
        return _postcode(value)

    @field_validator("legal_status", check_fields=False)
    @classmethod
    def _check_legal_status(cls, value):
        return _legal_status(value)

    @field_validator("category_of_need", check_fields=False)
    @classmethod
    def _check_cin(cls, value):
        if value is None:
            return None
        try:
            return check_category_of_need(value)
        except InvalidCode as exc:
            raise PydanticCustomError("category_of_need_code", str(exc)) from None

    @field_validator("summary", check_fields=False)
    @classmethod
    def _check_summary(cls, value):
        return _printable(value)

    @field_validator("needs", "risks", check_fields=False)
    @classmethod
    def _check_vocabulary(cls, value):
        return _vocabulary(value)

    @field_validator("at_risk", check_fields=False)
    @classmethod
    def _check_at_risk(cls, value):
        if value is None:
            return None
        try:
            check_at_risk(value)
        except ValueError as exc:
            raise PydanticCustomError("controlled_vocabulary", str(exc)) from None
        return value


class ReferralCreate(_ReferralFields):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        EXAMPLE, {k: v for k, v in EXAMPLE.items() if k not in ("child_ref", "urgency", "risks")}
        | {"placements_standard": STANDARD_EXAMPLE}]})

    child_ref: str | None = Field(default=None, validate_default=True, min_length=1, max_length=64,
                                  pattern=r"^[A-Za-z0-9][A-Za-z0-9/_.-]*$",
                                  description="The council's own reference for the child (never the child's name). "
                                              "Required, unless placements_standard gives its childId")
    date_of_birth: date = Field(description="The child's age on the wanted start date must be inside the homes' "
                                            "range (default 8 to 17)")
    sex: Sex
    legal_status: str | None = Field(default=None, description="Looked-after children legal status code: C1, C2, D1, "
                                                               "E1, J1, J2, J3, L1, L2, L3, V2, V3 or V4")
    category_of_need: str | None = Field(default=None, description="SSDA903 CIN: the child's main category of need, "
                                                                   "N1 to N8 (GET /v1/referrals/vocabulary)")
    home_postcode: str | None = Field(default=None, description="The child's home postcode; only its outward code "
                                                                "(for example LE4) is kept")
    needs: list[NeedOrRisk] = Field(default=[], max_length=MAX_NEEDS,
                                    description=f"Codes from GET /v1/referrals/vocabulary, each once; at most {MAX_NEEDS}")
    risks: list[NeedOrRisk] = Field(default=[], max_length=MAX_RISKS,
                                    description=f"Codes from GET /v1/referrals/vocabulary, each once; at most {MAX_RISKS}")
    urgency: Urgency | None = Field(default=None, validate_default=True, description=(
        "Required, unless placements_standard says neededBy (Today: crisis, in less than 5 days: urgent, in more "
        "than 5 days: planned)"))
    wanted_start_date: date | None = None
    summary: str | None = Field(default=None, max_length=4000,
                                description="Free text for the hub; never logged and never put in an event")
    social_worker: SocialWorker
    kind: Kind = Field(default="bed", description=(
        "bed: a Pathway Bed; outreach: the assessment and outreach team works with the child where the child "
        "lives now (home_postcode is that place's postcode). The outreach fields are refused on a bed referral"))
    current_setting: CurrentSetting | None = Field(default=None, description=(
        "Outreach (required there): where the child lives now (GET /v1/referrals/vocabulary `current_settings`)"))
    at_risk: list[str] = Field(default=[], max_length=MAX_AT_RISK, examples=[["placement_breakdown", "school_place"]],
                               description="Outreach: what is at risk, codes from GET /v1/referrals/vocabulary "
                                           "`at_risk`, each once")
    outreach_basis: OutreachBasis | None = Field(default=None, description=(
        "Outreach: a fixed-fee intervention (six weeks) or weekly outreach; the hub's acceptance says which"))
    outreach_planned_weeks: int | None = Field(default=None, ge=1, le=MAX_PLANNED_WEEKS, description=(
        "Outreach: the weeks asked for (weekly outreach)"))
    no_known_risks: list[str] = Field(default=[], max_length=MAX_RISKS, description=(
        "Risk codes asked about with no known risk (a code in neither risks nor no_known_risks was not asked)"))
    placement_request: PlacementRequest | None = Field(default=None, description=(
        "The Placements Data Standard's requirements in our words (or send placements_standard instead)"))
    placements_standard: PlacementsStandard | None = Field(default=None, description=(  # type: ignore[valid-type]
        "A placement request in the Placements Data Standard v2's own field names and options: mapped to "
        "placement_request, risks and no_known_risks, and answered back in both forms"))

    @field_validator("no_known_risks")
    @classmethod
    def _check_no_known(cls, value):
        return _risk_codes(value)

    @model_validator(mode="before")
    @classmethod
    def _from_standard(cls, data):
        """child_ref and urgency left out: the standard block's childId and neededBy say them."""
        block = data.get("placements_standard") if isinstance(data, dict) else None
        if not isinstance(block, dict):
            return data
        data = dict(data)
        child_id = block.get("childId")
        if data.get("child_ref") is None and isinstance(child_id, int) and not isinstance(child_id, bool):
            data["child_ref"] = str(child_id)
        if data.get("urgency") is None and block.get("neededBy") is not None:
            try:
                data["urgency"] = ps.URGENCY_OF_NEEDED_BY[ps.our_code("neededBy", ps.option_of("neededBy",
                                                                                             block["neededBy"]))]
            except ps.StandardValueError:
                pass  # the block's own error names neededBy
        return data

    @field_validator("child_ref", "urgency")
    @classmethod
    def _required(cls, value):
        if value is None:
            raise PydanticCustomError("missing", "Field required (or the placements_standard field that says it)")
        return value


class ReferralPatch(_ReferralFields):
    """A JSON merge patch: the fields sent replace the stored ones; the rest stay."""
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"urgency": "urgent", "risks": [{"code": "missing_episodes", "severity": "high"}]}]})

    child_ref: str | None = Field(default=None, min_length=1, max_length=64,
                                  pattern=r"^[A-Za-z0-9][A-Za-z0-9/_.-]*$")
    date_of_birth: date | None = None
    sex: Sex | None = None
    legal_status: str | None = None
    category_of_need: str | None = None
    home_postcode: str | None = None
    needs: list[NeedOrRisk] | None = Field(default=None, max_length=MAX_NEEDS)
    risks: list[NeedOrRisk] | None = Field(default=None, max_length=MAX_RISKS)
    urgency: Urgency | None = None
    wanted_start_date: date | None = None
    summary: str | None = Field(default=None, max_length=4000)
    social_worker: SocialWorker | None = None
    current_setting: CurrentSetting | None = Field(default=None, description="Outreach referrals only")
    at_risk: list[str] | None = Field(default=None, max_length=MAX_AT_RISK, description="Outreach referrals only")
    outreach_basis: OutreachBasis | None = Field(default=None, description="Outreach referrals only")
    outreach_planned_weeks: int | None = Field(default=None, ge=1, le=MAX_PLANNED_WEEKS,
                                               description="Outreach referrals only")
    no_known_risks: list[str] | None = Field(default=None, max_length=MAX_RISKS)
    placement_request: PlacementRequest | None = Field(default=None, description="Replaces the stored one whole")

    @field_validator("no_known_risks")
    @classmethod
    def _check_no_known(cls, value):
        return _risk_codes(value)


# fields a merge patch may not set to null
NOT_NULL = ("child_ref", "date_of_birth", "sex", "needs", "risks", "urgency", "social_worker", "no_known_risks")


class Withdrawal(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "placed_elsewhere"}]})
    reason: WithdrawalReason = Field(default="other", description="A coded reason (free text stays out of events)")


class ReferralLinks(BaseModel):
    self: str = Field(examples=["/v1/referrals/6f1c2a8e-8a55-4a3e-9a53-0d6f8d3b3c11"])
    admission: str | None = Field(default=None, description="The hub's decision (read by the hub)")
    placement: str | None = Field(default=None, description="Accepted: the child's placement")
    intervention: str | None = Field(default=None, description="An accepted outreach referral: its intervention")


class Referral(BaseModel):
    id: uuid.UUID
    la_code: str
    council_name: str | None = Field(default=None, description="The council's name beside its ONS code (la_code)")
    child_ref: str
    date_of_birth: date
    sex: str = Field(description="female, male or unknown")
    sex_code: str | None = Field(default=None, description="The same as the SSDA903 code: F, M or U")
    legal_status: str | None
    category_of_need: str | None = Field(default=None, description="SSDA903 CIN code (N1 to N8)")
    home_outward_code: str | None
    needs: list[NeedOrRisk]
    risks: list[NeedOrRisk]
    urgency: str
    wanted_start_date: date | None
    summary: str | None = None
    social_worker: SocialWorker | None = None
    kind: Kind = "bed"
    current_setting: str | None = Field(default=None, description="Outreach: where the child lives now")
    at_risk: list[str] = Field(default=[], description="Outreach: what is at risk (codes)")
    outreach_basis: str | None = Field(default=None, description="Outreach: fixed_fee or weekly")
    outreach_planned_weeks: int | None = None
    handoff_from_placement_id: uuid.UUID | None = Field(default=None, description=(
        "Outreach opened by a step-down from a Pathway Bed: the placement that ended (GET /v1/placements/{id})"))
    no_known_risks: list[str] = Field(default=[], description=(
        "Risk codes asked about with no known risk; a code in neither risks nor here was not asked"))
    placement_request: PlacementRequest | None = Field(default=None, description=(
        "The Placements Data Standard's requirements in our words"))
    placements_standard: PlacementsStandardOut | None = Field(default=None, description=(  # type: ignore[valid-type]
        "The same referral in the Placements Data Standard v2's field names and options (when it has a "
        "placement_request); risk fields not asked are left out"))
    status: StatusName
    allowed_moves: list[str] = Field(description="The states this referral may move to next")
    decided_at: datetime | None = None
    decision_reason: str | None = Field(default=None, description="Decline or withdrawal reason code")
    admission_id: uuid.UUID | None = Field(default=None, description="The hub's decision (accepted or declined)")
    placement_id: uuid.UUID | None = Field(default=None, description=(
        "Accepted: the child's placement (GET /v1/placements/{placement_id}); it exists once the assessment "
        "service has heard the acceptance, usually within a second"))
    intervention_id: uuid.UUID | None = Field(default=None, description=(
        "An accepted outreach referral: its intervention (GET /v1/interventions/{intervention_id}), made by the "
        "assessment service when it hears the acceptance"))
    links: ReferralLinks
    version: int = Field(description="Also the ETag: send it back in If-Match to change the referral")
    received_at: datetime
    updated_at: datetime
    waiting_seconds: int | None = Field(default=None, description="In the hub's queue (awaiting=decision): "
                                                                  "how long the referral has waited for a decision")
    restriction: "RestrictionMarker | None" = Field(default=None, description=(
        "The hub's reads of a record under a restriction of processing (decision 0006): the restriction in force. "
        "A council's reads of it answer 451 instead"))


class ReferralPage(Page[Referral], OmitsRestricted):
    pass


RestrictionReason = Literal[tuple(RESTRICTION_REASONS)]  # type: ignore[valid-type]
Requester = Literal[tuple(REQUESTERS)]  # type: ignore[valid-type]
RestrictionScope = Literal[tuple(RESTRICTION_SCOPES)]  # type: ignore[valid-type]


class RestrictionCreate(BaseModel):
    """A right-to-erasure (or other article 18) request, recorded as a restriction: codes only, no free text."""
    model_config = ConfigDict(extra="forbid")
    reason_code: RestrictionReason
    requested_by: Requester = Field(description="Who asked")
    requested_on: date = Field(description="When the request was made (not after today)")
    scope: list[RestrictionScope] = Field(min_length=1, max_length=len(RESTRICTION_SCOPES),
                                          description="Which parts of the record the request names (codes)")


class RestrictionMarker(BaseModel):
    id: uuid.UUID
    reason_code: str
    requested_on: date
    scope: list[str]


class Restriction(RestrictionMarker):
    referral_id: uuid.UUID
    requested_by: str
    recorded_by: str = Field(description="The hub client that recorded it")
    recorded_at: datetime
    lifted_at: datetime | None = None
    lifted_by: str | None = Field(default=None, description="The hub client that lifted it")


class RestrictionList(BaseModel):
    items: list[Restriction]


Referral.model_rebuild()


class VocabularyTerm(BaseModel):
    code: str
    label: str
    group: str


class Vocabulary(BaseModel):
    needs_and_risks: list[VocabularyTerm]
    severities: list[str]
    legal_statuses: dict[str, str]
    sexes: dict[str, str] = Field(default={}, description="The SSDA903 sex codes a referral may send, each with the "
                                                          "word it is stored and answered as")
    categories_of_need: dict[str, str] = Field(default={}, description="SSDA903 CIN codes")
    urgencies: list[str]
    max_needs: int = Field(description="The most needs one referral may list")
    max_risks: int = Field(description="The most risks one referral may list")
    home_specialisms: list[VocabularyTerm] = Field(description=(
        "What a home may specialise in (GET /v1/homes/vocabulary, hub roles, shows which needs each serves)"))
    registration_categories: list[VocabularyTerm] = Field(description=(
        "Ofsted's registered categories of need; a home is matched only for the needs its categories cover"))
    councils: dict[str, str] = Field(description="Council names by ONS code, for the codes in use")
    kinds: list[str] = Field(default=["bed", "outreach"], description="What a referral may ask for")
    current_settings: dict[str, str] = Field(default={}, description=(
        "Outreach: where the child lives now, by code (`current_setting`)"))
    at_risk: list[VocabularyTerm] = Field(default=[], description="Outreach: what is at risk (`at_risk` codes)")
    max_at_risk: int = Field(default=MAX_AT_RISK, description="The most at_risk codes one referral may list")
    outreach_bases: list[str] = Field(default=["fixed_fee", "weekly"], description="Outreach: `outreach_basis`")
    council_codes: list[dict] = Field(default=[], description=(
        "Each council by both identifiers: {ons_code, dfe_la_number, name}"))
    deprecated_codes: dict[str, list[str]] = Field(default={}, description=(
        "Retired needs-and-risks codes, still accepted: each is stored as the codes it was split into"))
    placements_standard: dict = Field(default={}, description=(
        "The Placements Data Standard v2 both ways: `standard` (name, version, effective date), `fields` (each of "
        "its 41 fields with entity, cardinality, where it lives in our model and each option with our code), "
        "`to_standard` (our codes back to the standard's field and option)"))
