"""Request and response models of /v1/referrals. Rules come from the pure domain; this module only
turns a broken rule into a validation problem naming the field and the rule."""
from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from libs.common.events.catalogue import NeedOrRisk
from libs.common.pagination import Page
from libs.common.vocabulary import CURRENT_SETTINGS, MAX_AT_RISK

from .domain.outreach import MAX_PLANNED_WEEKS, check_at_risk
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
    if items is None:
        return None
    try:
        check_needs_or_risks([i.code for i in items])
    except UnknownNeedOrRisk as exc:
        raise PydanticCustomError("controlled_vocabulary", str(exc)) from None
    return items


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
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE]})

    child_ref: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9/_.-]*$",
                           description="The council's own reference for the child (never the child's name)")
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
    urgency: Urgency
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


# fields a merge patch may not set to null
NOT_NULL = ("child_ref", "date_of_birth", "sex", "needs", "risks", "urgency", "social_worker")


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


class ReferralPage(Page[Referral]):
    pass


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
