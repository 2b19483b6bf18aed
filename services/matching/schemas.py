from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from libs.common.pagination import Page
from libs.common.restrictions import RESTRICTION_FIELD, RestrictionMarker
from libs.common.geography import locate
from libs.common.vocabulary import HOME_SPECIALISMS, OUTREACH_SPECIALISMS, REGISTRATION_CATEGORIES
from libs.common.weekly_fees import WeeklyFee, WeeklyFeeApplied

from .domain.beds import ONBOARDING_CHECKLIST
from .domain.postcodes import InvalidPostcode, normalise

OfstedRating = Literal["outstanding", "good", "requires_improvement", "inadequate"]
# the vocabularies (libs/common/vocabulary.py, published at GET /v1/homes/vocabulary and GET /v1/referrals/vocabulary):
# any other value is a 422 listing the allowed ones
Category = Literal[tuple(REGISTRATION_CATEGORIES)]  # type: ignore[valid-type]
Specialism = Literal[tuple(HOME_SPECIALISMS)]  # type: ignore[valid-type]
Sex = Literal["female", "male"]
# communication support a home offers, against a child's specificCommunicationRequirements (Placements Data Standard)
CommunicationSupport = Literal["esol", "bsl", "makaton", "other"]
# Ofsted URNs come in two forms: SC and six digits, and (for newly registered providers) seven digits
URN_PATTERN = r"^(SC\d{6}|\d{7})$"
# every collection a client sends is bounded (issue 10): at most each value once
MAX_SEXES, MAX_CATEGORIES, MAX_SPECIALISMS = 2, 6, 20
ManagerEmail = Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
ManagerPhone = Annotated[str, StringConstraints(pattern=r"^\+?[0-9 ()-]{7,20}$")]


def _postcode(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return normalise(value)[0]
    except InvalidPostcode as exc:
        raise ValueError(str(exc)) from None


class HomeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "urn": "SC123456", "name": "Beaumont House", "address": "12 Beaumont Leys Lane, Leicester",
        "postcode": "LE4 1AB", "registered_places": 3, "age_min": 10, "age_max": 17, "sexes": ["female", "male"],
        "categories": ["emotional_behavioural_difficulties", "mental_disorders"],
        "specialisms": ["complex_mental_health"], "registered_manager": "A. Manager",
        "registered_manager_email": "manager@beaumont.example.org", "registered_manager_phone": "0116 000 0000",
        "ofsted_rating": "good", "inspection_date": "2026-05-14"}]})

    urn: str = Field(pattern=URN_PATTERN, description=(
        "Ofsted unique reference number: SC and six digits (SC123456), or the 7-digit number Ofsted gives a newly "
        "registered home (2512345)"), examples=["SC123456", "2512345"])
    name: str = Field(min_length=1, max_length=200)
    address: str = Field(min_length=1, max_length=500)
    postcode: str
    registered_places: int = Field(ge=1, le=20)
    age_min: int = Field(ge=0, le=18)
    age_max: int = Field(ge=0, le=18)
    sexes: list[Sex] = Field(min_length=1, max_length=MAX_SEXES)
    categories: list[Category] = Field(min_length=1, max_length=MAX_CATEGORIES,
                                       description="Registered categories of need")
    specialisms: list[Specialism] = Field(default=[], max_length=MAX_SPECIALISMS,
                                          examples=[["youth_justice_step_down", "complex_mental_health"]],
                                          description="Codes from GET /v1/homes/vocabulary")
    registered_manager: str | None = Field(default=None, max_length=200)
    registered_manager_email: ManagerEmail | None = Field(default=None, description=(
        "The registered manager's work email: councils with a child in the home see it"))
    registered_manager_phone: ManagerPhone | None = None
    ofsted_rating: OfstedRating | None = None
    inspection_date: date | None = None
    registration_status: Literal["registered", "suspended"] = "registered"
    phase_1_limit: int | None = Field(default=None, ge=1, le=20, description="Children in Phase 1 at once (default 1)")
    pets: bool = Field(default=False, description=(
        "Animals live in the home: never offered to a child who cannot live with pets; required by one who must"))
    accepts_deprivation_of_liberty: bool = Field(default=False, description=(
        "The home can care for a child under a Deprivation of Liberty order (otherwise never offered for one)"))
    communication_support: list[CommunicationSupport] = Field(default=[], max_length=4, description=(
        "Communication support the home's staff give (ESOL, BSL, Makaton, other): a child who needs one the home "
        "lacks is still offered, with the gap explained and scored"))
    adapted: bool = Field(default=False, description="Adapted for a child who needs home adaptations")

    _pc = field_validator("postcode")(classmethod(lambda cls, v: _postcode(v)))

    @model_validator(mode="after")
    def _ages(self):
        if self.age_min > self.age_max:
            raise ValueError("age_min must not exceed age_max")
        return self


class HomeUpdate(BaseModel):
    """Only the fields sent change. Needs If-Match with the home's ETag."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    address: str | None = Field(default=None, min_length=1, max_length=500)
    postcode: str | None = None
    registered_places: int | None = Field(default=None, ge=1, le=20)
    age_min: int | None = Field(default=None, ge=0, le=18)
    age_max: int | None = Field(default=None, ge=0, le=18)
    sexes: list[Sex] | None = Field(default=None, min_length=1, max_length=MAX_SEXES)
    categories: list[Category] | None = Field(default=None, min_length=1, max_length=MAX_CATEGORIES)
    specialisms: list[Specialism] | None = Field(default=None, max_length=MAX_SPECIALISMS)
    registered_manager: str | None = Field(default=None, max_length=200)
    registered_manager_email: ManagerEmail | None = None
    registered_manager_phone: ManagerPhone | None = None
    ofsted_rating: OfstedRating | None = None
    inspection_date: date | None = None
    phase_1_limit: int | None = Field(default=None, ge=1, le=20)
    pets: bool | None = None
    accepts_deprivation_of_liberty: bool | None = None
    communication_support: list[CommunicationSupport] | None = Field(default=None, max_length=4)
    adapted: bool | None = None

    _pc = field_validator("postcode")(classmethod(lambda cls, v: _postcode(v)))


class ChecklistConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")
    done: bool = True
    note: str | None = Field(default=None, max_length=500)


class ChecklistItem(BaseModel):
    item: str = Field(examples=list(ONBOARDING_CHECKLIST))
    done: bool
    confirmed_by: str | None
    confirmed_at: datetime | None
    note: str | None = None


class BedOut(BaseModel):
    id: uuid.UUID
    label: str
    state: Literal["vacant", "reserved", "occupied", "out_of_service"]
    is_pathway: bool = Field(description="The home's Pathway Bed: where the next crisis admission goes")
    reserved_until: datetime | None = None


class BedUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    state: Literal["vacant", "out_of_service"]


class RegistrationChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, max_length=500)


class NotOffered(BaseModel):
    reason: Literal["onboarding", "checklist_incomplete", "registration_suspended", "rated_inadequate",
                    "no_free_pathway_bed", "phase_1_limit"]
    detail: str
    next_step: str | None = Field(default=None, examples=["POST /v1/homes/{id}/go-live"])


class HomeOut(BaseModel):
    id: uuid.UUID
    urn: str
    name: str
    address: str
    postcode: str
    postcode_district: str
    registered_places: int
    age_min: int
    age_max: int
    sexes: list[str]
    categories: list[str]
    specialisms: list[str]
    registered_manager: str | None
    registered_manager_email: str | None = None
    registered_manager_phone: str | None = None
    ofsted_rating: str | None
    inspection_date: date | None
    registration_status: str
    status: Literal["onboarding", "live"]
    matchable: bool = Field(description="Live, registered and not rated Inadequate: in matching now")
    not_offered_because: list[NotOffered] = Field(description=(
        "Why the home is not offered to the hub's matching now (empty when matchable); a matchable home may still "
        "be excluded for one child, e.g. with no free Pathway Bed (see `offered`)"))
    phase_1_limit: int
    in_phase_1: int = Field(default=0, description="Children in Phase 1 now; at phase_1_limit the home's Pathway "
                                                   "Bed is not free (not_offered_because: phase_1_limit)")
    pets: bool = False
    accepts_deprivation_of_liberty: bool = False
    communication_support: list[str] = []
    adapted: bool = False
    version: int
    went_live_at: datetime | None
    checklist: list[ChecklistItem]
    beds: list[BedOut]


class ManagerContact(BaseModel):
    name: str | None
    email: str | None
    phone: str | None


class HomeProfile(BaseModel):
    """The home a child lives in, as the child's council reads it: never anything about other children."""
    id: uuid.UUID
    name: str
    address: str
    postcode: str
    urn: str = Field(description="Ofsted unique reference number")
    ofsted_rating: str | None = Field(description="The latest Ofsted rating")
    inspection_date: date | None = Field(description="The date of the inspection that gave it")
    registered_manager: ManagerContact = Field(description="The registered manager's work contact")
    ofsted_report_url: str = Field(description="Ofsted's public page for the home (reports and ratings)")


class VocabularyTerm(BaseModel):
    code: str
    label: str


class SpecialismTerm(VocabularyTerm):
    serves: list[str] = Field(description="The needs and risks (referral vocabulary codes) it serves in matching")


class CategoryTerm(VocabularyTerm):
    called_for_by: list[str] = Field(description=(
        "The needs and risks that call for this registered category; a home without it is excluded for a child "
        "with one of them (needs_beyond_registration)"))


class HomeVocabulary(BaseModel):
    specialisms: list[SpecialismTerm]
    registration_categories: list[CategoryTerm]
    default_category: str = Field(description="The category a child with none of the listed needs calls for")
    hard_limits: list[str] = Field(description="Why a home may be excluded from a ranking, in the order checked")
    communication_support: list[str] = Field(default=[], description=(
        "The communication support a home may list (against a child's specificCommunicationRequirements)"))
    requirement_points: dict[str, int] = Field(default={}, description=(
        "The points of the `requirements` term for each placement requirement a home meets only in part"))


class ResidentOut(BaseModel):
    placement_id: uuid.UUID
    referral_id: uuid.UUID
    bed_id: uuid.UUID
    phase: str
    start_date: date
    age: int | None
    sex: str | None
    codes: list[str]


# --- the impact risk assessment ---------------------------------------------------------------------
class ScoreTerm(BaseModel):
    term: str = Field(examples=["distance"])
    points: float
    weight: float
    weighted: float
    reason: str


class FiredRisk(BaseModel):
    rule: str
    score: int
    holder: Literal["new_child", "resident"]
    reason: str
    mitigation: str
    unacceptable: bool


class ResidentRisk(BaseModel):
    placement_id: str
    referral_id: str
    age: int
    sex: str
    phase: str
    score: int
    risks: list[FiredRisk]


class MatchOption(BaseModel):
    rank: int
    home_id: uuid.UUID
    home_name: str
    rating: Literal["low", "medium", "high", "unacceptable"]
    score: float = Field(description="Sum of the weighted terms; lower is better (see score_direction, score_range)")
    impact: int
    distance_km: float | None
    terms: list[ScoreTerm]
    resident_risks: list[ResidentRisk]
    mitigations: list[str] = Field(examples=[["prepare_current_group", "soft_landing_plan_48_72h"]])


class Exclusion(BaseModel):
    home_id: uuid.UUID
    home_name: str
    limit: str = Field(examples=["needs_beyond_registration"])
    detail: str = Field(examples=["not registered for the child's needs: mental_health calls for mental_disorders"])
    needs: list[str] | None = Field(default=None, description="needs_beyond_registration: the needs the home is not "
                                                              "registered for")
    categories: list[str] | None = Field(default=None, description="needs_beyond_registration: the categories missing")


class ImpactRiskAssessmentOut(BaseModel):
    impact_risk_assessment_id: str = Field(description="Hash of the answer: the same inputs give the same id")
    assessment_id: str = Field(json_schema_extra={"deprecated": True},
                               description="Deprecated: the same as impact_risk_assessment_id")
    referral_id: uuid.UUID
    referral_status: str
    received_at: datetime
    as_of: date
    rules_version: str
    weights: dict[str, float]
    rating_thresholds: dict[str, int]
    homes_considered: int
    homes_ranked: int
    score_direction: Literal["lower_is_better"]
    score_range: dict[str, float | None] = Field(description="The best possible score (min); no upper bound (max null)")
    score_explained: str
    excluded: dict[str, int] = Field(description="How many homes each hard limit excluded")
    exclusions: list[Exclusion] = Field(description="Each excluded home (at most 50, by id) and why, naming the need, "
                                                    "age, sex or limit")
    options: list[MatchOption] = Field(description="Homes ranked best first; empty when none can take the child")
    restriction: RestrictionMarker | None = RESTRICTION_FIELD


# --- decisions ---------------------------------------------------------------------------------------
DeclineReason = Literal["risk_to_current_group", "needs_beyond_registration", "no_vacancy", "staffing", "other",
                        "no_team_capacity", "outside_reach"]


class AdmissionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"referral_id": "6f1c2a8e-8a55-4a3e-9a53-0d6f8d3b3c11", "decision": "accept",
         "home_id": "0b7f7a8e-2d3c-4d6e-9a4f-3c2b1a0f9e8d", "planned_start_date": "2026-11-24"},
        {"referral_id": "6f1c2a8e-8a55-4a3e-9a53-0d6f8d3b3c11", "decision": "decline",
         "reason_code": "risk_to_current_group"},
        {"referral_id": "0d1c2a8e-8a55-4a3e-9a53-0d6f8d3b3c12", "decision": "accept",
         "team_id": "5e2f7a8e-2d3c-4d6e-9a4f-3c2b1a0f9e8d", "planned_start_date": "2026-11-24",
         "outreach_basis": "weekly", "planned_weeks": 26}]})

    referral_id: uuid.UUID
    decision: Literal["accept", "decline"]
    home_id: uuid.UUID | None = None
    bed_id: uuid.UUID | None = Field(default=None, description="Defaults to the home's Pathway Bed")
    planned_start_date: date | None = None
    reason_code: DeclineReason | None = None
    reason_text: str | None = Field(default=None, max_length=1000)
    fee_basis_hint: Literal["enhanced_assessment", "blended"] | None = None
    impact_risk_assessment_id: str | None = Field(default=None, max_length=64,
                                                  description="The impact risk assessment shown when deciding")
    assessment_id: str | None = Field(default=None, max_length=64, json_schema_extra={"deprecated": True},
                                      description="Deprecated name of impact_risk_assessment_id (still accepted)")
    team_id: uuid.UUID | None = Field(default=None, description=(
        "Outreach referrals: the outreach team accepting the child (instead of home_id)"))
    outreach_basis: Literal["fixed_fee", "weekly"] | None = Field(default=None, description=(
        "Outreach: fixed_fee or weekly (default: the referral's outreach_basis, else fixed_fee)"))
    planned_weeks: int | None = Field(default=None, ge=1, le=52, description=(
        "Outreach: the weeks planned; a fixed fee defaults to 6, weekly to the weeks the referral asked for"))

    @model_validator(mode="after")
    def _shape(self):
        if self.assessment_id is not None:  # the deprecated name: one field from here on
            if self.impact_risk_assessment_id not in (None, self.assessment_id):
                raise ValueError("impact_risk_assessment_id and its deprecated name assessment_id differ")
            self.impact_risk_assessment_id, self.assessment_id = self.assessment_id, None
        if self.decision == "accept":
            if self.home_id is None and self.team_id is None:
                raise ValueError("an accept names the home_id (a bed referral) or the team_id (outreach)")
            if self.home_id is not None and self.team_id is not None:
                raise ValueError("an accept names the home_id (a bed referral) or the team_id (outreach), not both")
            if self.planned_start_date is None:
                raise ValueError("an accept names the planned_start_date")
            if self.reason_code is not None:
                raise ValueError("an accept carries no reason_code")
        else:
            if self.reason_code is None:
                raise ValueError("a decline carries a reason_code")
            if self.reason_code == "other" and not (self.reason_text or "").strip():
                raise ValueError("a decline for reason 'other' needs reason_text")
        return self




class AdmissionOut(BaseModel):
    id: uuid.UUID
    referral_id: uuid.UUID
    decision: Literal["accepted", "declined"]
    status: str = Field(examples=["reserved", "arrived", "lapsed", "declined"])
    home_id: uuid.UUID | None
    bed_id: uuid.UUID | None
    planned_start_date: date | None
    reserved_until: datetime | None
    reason_code: str | None
    reason_text: str | None
    fee_basis_hint: str | None
    impact_risk_assessment_id: str | None
    assessment_id: str | None = Field(json_schema_extra={"deprecated": True},
                                      description="Deprecated: the same as impact_risk_assessment_id")
    decided_by: str
    decided_at: datetime
    weekly_fee: WeeklyFee | None = Field(default=None, description=(
        "The weekly fee that applies today (billing's contract and fee schedule for the council; from the "
        "planned start until arrival). Null when none applies (see weekly_fee_applied) or not yet known"))
    weekly_fee_applied: WeeklyFeeApplied | None = None
    team_id: uuid.UUID | None = Field(default=None, description="Outreach: the team that took the child")
    outreach_basis: str | None = Field(default=None, description="Outreach: fixed_fee or weekly")
    planned_weeks: int | None = Field(default=None, description="Outreach: the weeks planned")


# --- lists: every list answers one shape, {items, next_cursor} (libs.common.pagination.Page) --------------
class HomePage(Page[HomeOut]):
    """Homes (all of them: next_cursor is null)."""


class BedPage(Page[BedOut]):
    """A home's beds (all of them: next_cursor is null)."""


class ResidentPage(Page[ResidentOut]):
    """The children living in a home (all of them: next_cursor is null)."""


class AdmissionPage(Page[AdmissionOut]):
    """Decisions, newest first (at most `limit`: next_cursor is null)."""


# --- outreach teams (issue 16) -------------------------------------------------------------------------
OutreachSpecialism = Literal[tuple(OUTREACH_SPECIALISMS)]  # type: ignore[valid-type]
MAX_TEAM_SPECIALISMS = 20
_DISTRICT = r"^[A-Za-z]{1,2}[0-9][A-Za-z0-9]?$"
Region = Annotated[str, StringConstraints(min_length=2, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")]


def _district_spelling(value):
    """Before the pattern: any case and spacing (" le4 " -> "LE4"), and a full postcode names its district
    ("le4 6ab" -> "LE4"), as a child's home_postcode is read."""
    if not isinstance(value, str):
        return value
    spelt = " ".join(value.split()).upper()
    if spelt.count(" ") > 1:
        return spelt  # "L E 4" is no district: the pattern says so
    try:
        return normalise(spelt)[1]
    except InvalidPostcode:
        return spelt


def _district(value: str | None) -> str | None:
    if value is None:
        return None
    code = value.strip().upper()
    if locate(code) is None:
        raise ValueError(f"{value!r} is not a postcode district whose location is known (for example LE4)")
    return code


class TeamCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "name": "East Midlands outreach team", "region": "east_midlands", "base_postcode_district": "LE4",
        "practitioners": 4, "caseload_limit": 8, "reach_miles": 30,
        "specialisms": ["child_sexual_exploitation", "family_work"]}]})
    name: str = Field(min_length=1, max_length=200)
    region: Region = Field(examples=["east_midlands"], description="The region the team serves (a code)")
    base_postcode_district: str = Field(pattern=_DISTRICT, examples=["LE4"],
                                        description=(
        "The team's home base, as a postcode district (any case or spacing; a full postcode gives its district)"))
    practitioners: int = Field(ge=1, le=100)
    caseload_limit: int = Field(ge=1, le=500, description="The most open interventions the team holds at once")
    specialisms: list[OutreachSpecialism] = Field(default=[], max_length=MAX_TEAM_SPECIALISMS, description=(
        "Codes from GET /v1/outreach-teams/vocabulary"))
    reach_miles: int = Field(ge=1, le=300, description="How far from its base the team travels to a child")
    status: Literal["active", "suspended"] = "active"

    _d = field_validator("base_postcode_district")(classmethod(lambda cls, v: _district(v)))
    _spelt = field_validator("base_postcode_district", mode="before")(
        classmethod(lambda cls, v: _district_spelling(v)))


class TeamUpdate(BaseModel):
    """Only the fields sent change. Needs If-Match with the team's ETag."""
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"caseload_limit": 10},
                                                                              {"status": "suspended"}]})
    name: str | None = Field(default=None, min_length=1, max_length=200)
    region: Region | None = None
    base_postcode_district: str | None = Field(default=None, pattern=_DISTRICT)
    practitioners: int | None = Field(default=None, ge=1, le=100)
    caseload_limit: int | None = Field(default=None, ge=1, le=500)
    specialisms: list[OutreachSpecialism] | None = Field(default=None, max_length=MAX_TEAM_SPECIALISMS)
    reach_miles: int | None = Field(default=None, ge=1, le=300)
    status: Literal["active", "suspended"] | None = None

    _d = field_validator("base_postcode_district")(classmethod(lambda cls, v: _district(v)))
    _spelt = field_validator("base_postcode_district", mode="before")(
        classmethod(lambda cls, v: _district_spelling(v)))


class TeamNotOffered(BaseModel):
    reason: Literal["team_suspended", "caseload_full"]
    detail: str
    next_step: str | None = None


class TeamOut(BaseModel):
    id: uuid.UUID
    name: str
    region: str
    base_postcode_district: str
    practitioners: int
    caseload_limit: int
    caseload: int = Field(description="Open interventions: accepted outreach referrals whose intervention has not "
                                      "closed")
    capacity_left: int
    specialisms: list[str]
    reach_miles: int
    status: Literal["active", "suspended"]
    not_offered_because: list[TeamNotOffered] = Field(description=(
        "Why matching offers the team to no outreach referral now (empty when it may be offered)"))
    version: int
    created_at: datetime
    updated_at: datetime


class TeamPage(Page[TeamOut]):
    """Outreach teams (all of them: next_cursor is null)."""


class OutreachSpecialismTerm(VocabularyTerm):
    serves: list[str] = Field(description="The child's needs, risks and at-risk codes it serves in the ranking")


class TeamVocabulary(BaseModel):
    specialisms: list[OutreachSpecialismTerm]
    hard_limits: list[str] = Field(description="Why a team may be excluded from a ranking, in the order checked")
    decline_reasons: dict[str, str] = Field(description="The decline reason_code that fits each hard limit")
    rules_version: str


class TeamTerm(BaseModel):
    term: Literal["capacity", "distance", "specialism"]
    points: float
    weight: float
    weighted: float
    reason: str


class TeamOption(BaseModel):
    rank: int
    team_id: uuid.UUID
    team_name: str
    region: str
    score: float = Field(description="Sum of the weighted terms; lower is better")
    distance_km: float | None
    distance_miles: float | None
    reach_miles: int
    caseload: int
    caseload_limit: int
    capacity_left: int
    specialisms_serving: list[str]
    terms: list[TeamTerm]


class TeamExclusion(BaseModel):
    team_id: uuid.UUID
    team_name: str
    limit: Literal["team_suspended", "caseload_full", "outside_reach"]
    detail: str


class TeamRankingOut(BaseModel):
    """An outreach referral's answer at GET /v1/referrals/{id}/matches: outreach teams ranked, not homes."""
    impact_risk_assessment_id: str = Field(description="Hash of the answer; cite it when deciding")
    kind: Literal["outreach"]
    referral_id: uuid.UUID
    referral_status: str
    received_at: datetime
    as_of: date
    current_setting: str | None
    child_outward_code: str | None
    rules_version: str
    weights: dict[str, float]
    score_direction: Literal["lower_is_better"]
    score_range: dict[str, float | None]
    score_explained: str
    teams_considered: int
    teams_ranked: int
    excluded: dict[str, int] = Field(description="How many teams each hard limit excluded")
    exclusions: list[TeamExclusion]
    options: list[TeamOption] = Field(description="Teams ranked best first; empty when none can take the child")
    restriction: RestrictionMarker | None = RESTRICTION_FIELD
