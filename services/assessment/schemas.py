"""Request and response models of the assessment API."""
from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from libs.common.weekly_fees import WeeklyFee, WeeklyFeeApplied

from libs.common.pagination import Page
from libs.common.restrictions import RESTRICTION_FIELD, OmitsRestricted, RestrictionMarker

from libs.common.vocabulary import LEGAL_STATUSES

from .domain.ending import REASON_PLACE_CHANGE, Destination, EndingType
from .domain.schedule import TASKS_BY_CODE

Phase = Literal["pending", "phase_1", "phase_2", "ended"]
DestinationName = Literal[tuple(d.value for d in Destination)]  # type: ignore[valid-type]
EndingTypeName = Literal[tuple(t.value for t in EndingType)]    # type: ignore[valid-type]
TaskCode = Literal[tuple(TASKS_BY_CODE)]                        # type: ignore[valid-type]
Text = Field(min_length=1, max_length=20000)
Attendee = Annotated[str, Field(min_length=1, max_length=200)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Arrival(Strict):
    arrival_date: date = Field(description="The day the child actually arrived (day 1)", examples=["2026-11-23"])
    reason_new_episode: Literal["S", "P", "B"] | None = Field(default=None, description=(
        "SSDA903 RNE of the placement's first episode: S the child started to be looked after, P a change of "
        "placement only (the default), B a change of placement and legal status together"))
    key_worker: str | None = Field(default=None, max_length=120, description="Staff member (not the child)")
    therapeutic_lead: str | None = Field(default=None, max_length=120)


class PhaseTwo(Strict):
    effective_date: date = Field(description="The first day of Phase 2 (normally day 29); billing splits here")
    reason: str | None = Field(default=None, max_length=2000, description="Required when back-dated")


class Extension(Strict):
    new_end_date: date = Field(description="The new last day of Phase 1")
    reason: str = Field(min_length=1, max_length=2000)


class TaskDone(Strict):
    done_on: date
    owner: str | None = Field(default=None, max_length=120)


class Sections(Strict):
    needs_and_history_summary: str | None = Field(default=None, max_length=20000)
    safety_and_risk_plan: str | None = Field(default=None, max_length=20000)
    therapeutic_plan: str | None = Field(default=None, max_length=20000)
    education_plan: str | None = Field(default=None, max_length=20000)
    health_plan: str | None = Field(default=None, max_length=20000)
    family_and_network: str | None = Field(default=None, max_length=20000)
    step_down_goals: str | None = Field(default=None, max_length=20000)

    def given(self) -> dict[str, str]:
        return {k: v for k, v in self.model_dump(exclude_unset=True).items() if v is not None}


class PlanEdit(Strict):
    sections: Sections


class PlanIssue(Strict):
    issued_on: date | None = Field(default=None, description="The day it was issued to the council (default "
                                   "today; an earlier day records an issue made outside the system)")


class ReviewCompletion(Strict):
    completed_on: date
    attendees: list[Attendee] = Field(min_length=1, max_length=50, description="Roles or names of professionals "
                                      "(1 to 50)")
    findings: str = Field(min_length=1, max_length=20000)
    sections: Sections | None = Field(default=None, description="Plan sections the review revised")


class StepDownPlan(Strict):
    destination: DestinationName
    target_date: date
    readiness_notes: str | None = Field(default=None, max_length=5000)


_FULL_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][0-9A-Z]?) ?[0-9][A-Z]{2}$")


class OutreachHandoffIn(Strict):
    basis: Literal["fixed_fee", "weekly"] = Field(default="weekly", description=(
        "weekly outreach, or a fixed-fee six-week intervention"))
    planned_weeks: int = Field(ge=1, le=104, examples=[26])
    setting: Literal["own_home", "foster_care", "ifa", "other_residential", "hospital",
                     "step_down_destination"] = Field(default="step_down_destination",
                                                      description="Where the child lives next")
    outward_code: str | None = Field(default=None, pattern=r"^[A-Z]{1,2}[0-9][0-9A-Z]?$", examples=["NG7"], description=(
        "The outward code of where the child moves to (never a full address: a full postcode is cut to its outward "
        "code; any case and spacing)"))

    @field_validator("outward_code", mode="before")
    @classmethod
    def _outward_spelt(cls, value):
        """" ng7 " -> "NG7"; "ng7 2rd" -> "NG7" (only the outward code is kept), as a referral's postcode is read."""
        if not isinstance(value, str):
            return value
        spelt = " ".join(value.split()).upper()
        full = _FULL_POSTCODE.match(spelt)
        return full.group(1) if full else spelt


class Ending(Strict):
    end_date: date = Field(description="The leaving day (not charged)")
    ending_type: EndingTypeName = Field(description="step_down is the planned ending; the others are unplanned")
    destination: DestinationName | None = Field(default=None, description="Required for a step_down")
    reason_code: str = Field(pattern=r"^(E\d{1,2}[AB]?|X1)$", examples=["E4A", "X1"],
                             description="SSDA903 reason episode ceased code; GET /v1/placements/ending-codes")
    reason_place_change: str | None = Field(default=None, description=(
        "Required with X1 (and only then): the SSDA903 reason for the placement change, one of "
        + ", ".join(REASON_PLACE_CHANGE)), examples=["CARPL"])
    notes: str | None = Field(default=None, max_length=2000)
    outreach_handoff: OutreachHandoffIn | None = Field(default=None, description=(
        "A planned step-down that hands the child to the outreach team in the next placement: placement.ended "
        "carries it and the referral service opens an outreach referral from it (issue 16)"))


class LegalStatusChange(Strict):
    legal_status: str = Field(pattern=r"^[A-Z][0-9]$", examples=["C2"], description=(
        "The looked-after children legal status code from the effective date: " + ", ".join(LEGAL_STATUSES)))
    effective_date: date = Field(description="The day the new legal status took effect (a new SSDA903 episode)")

    @field_validator("legal_status", mode="before")
    @classmethod
    def _spelt(cls, value):
        """Any case and spacing, as a referral's legal_status is read ("c1 " -> "C1")."""
        return value.strip().upper() if isinstance(value, str) else value


class LegalStatusSpan(BaseModel):
    legal_status: str | None = Field(description="Null when the referral did not say")
    effective_date: date
    source: Literal["referral", "change"]
    recorded_by: str | None = None


class Episode(BaseModel):
    """One SSDA903 episode row: the return's own column names (dates as YYYY-MM-DD here, DD/MM/YYYY in CSV)."""
    CHILD: str | None
    DECOM: date
    RNE: str
    LS: str | None
    CIN: str | None
    PLACE: str
    PLACE_PROVIDER: str
    URN: str | None
    PL_POST: str | None
    HOME_POST: str | None
    PL_DISTANCE: float | None = Field(description="Miles from the child's home area to the home")
    DEC: date | None
    REC: str | None
    REASON_PLACE_CHANGE: str | None
    placement_id: uuid.UUID
    la_code: str
    dfe_la_number: str | None


class EpisodeList(OmitsRestricted):
    items: list[Episode]
    collection_year: str | None = Field(default=None, examples=["2026-27"])


class CscPlacement(BaseModel):
    """One item of child_looked_after_placements in the DfE children's social care API."""
    child_looked_after_placement_id: str = Field(description="Our placement id")
    start_date: date
    start_reason: str = Field(description="SSDA903 reason for new episode (RNE) of the placement's first episode",
                              examples=["S"])
    placement_type: str = Field(description="SSDA903 PLACE (K2: a children's home)", examples=["K2"])
    postcode: str | None = Field(description="The home's postcode (SSDA903 PL_POST)")
    end_date: date | None
    end_reason: str | None = Field(description="SSDA903 reason episode ceased (REC) of the ending", examples=["E3"])
    change_reason: str | None = Field(description="SSDA903 reason for placement change (X1 endings)",
                                      examples=["CHILD"])
    purge: bool = False


class CscChild(BaseModel):
    la_child_id: str | None = Field(description="The council's own reference for the child (child_ref)")
    la_code: str
    dfe_la_number: str | None
    child_looked_after_placements: list[CscPlacement]


class CscPlacementList(OmitsRestricted):
    """The caller's placements in the DfE children's social care API's shape, one item per child: the council puts
    each child's child_looked_after_placements inside its own social_care_episodes record."""
    items: list[CscChild]
    collection_year: str | None = Field(default=None, examples=["2026-27"])


# --- responses ---------------------------------------------------------------------------------
class Span(BaseModel):
    phase: str
    start: date
    end: date | None


class PlanSummary(BaseModel):
    id: uuid.UUID
    due_date: date
    issued_version: int
    issued_on: date | None
    late: bool


class ReviewSummary(BaseModel):
    id: uuid.UUID
    kind: str
    due_date: date




class PlacementLinks(BaseModel):
    self: str
    referral: str = Field(description="The council's referral this placement was made from")
    admission: str = Field(description="The hub's decision (read by the hub)")
    home: str = Field(description="The home the child lives in: name, address, manager's contact, Ofsted")
    plan: str
    reviews: str
    tasks: str
    ssda903_episodes: str | None = None


class PlacementOut(BaseModel):
    id: uuid.UUID
    admission_id: uuid.UUID
    referral_id: uuid.UUID
    la_code: str
    council_name: str | None = Field(default=None, description="The council's name beside its ONS code")
    dfe_la_number: str | None = Field(default=None, description="The council's DfE LA number beside its ONS code")
    home_id: uuid.UUID
    bed_id: uuid.UUID
    key_worker: str | None
    therapeutic_lead: str | None
    status: Phase
    allowed_moves: list[str]
    planned_start_date: date
    arrival_date: date | None
    phase_1_end: date | None
    phase_1_extended: bool
    end_date: date | None
    as_of: date
    phase: Phase = Field(description="The phase on the as_of date")
    day: int | None = Field(description="The day counter on the as_of date (day 1 = arrival)")
    phase_history: list[Span]
    extensions: list[dict]
    transitions: list[dict]
    statutory_reviews: list[date] = Field(description="The council's statutory review dates (latest dates)")
    plan: PlanSummary | None
    next_review: ReviewSummary | None
    step_down: dict | None
    ending: dict | None
    weekly_fee: WeeklyFee | None = Field(default=None, description=(
        "The weekly fee that applies today (not on the as_of date): billing's contract and fee schedule for "
        "the council. Null when none applies (see weekly_fee_applied) or not yet known"))
    restriction: RestrictionMarker | None = RESTRICTION_FIELD
    weekly_fee_applied: WeeklyFeeApplied | None = None
    reason_new_episode: str | None = Field(default=None, description="SSDA903 RNE of the first episode")
    home_urn: str | None = Field(default=None, description="The home's Ofsted URN")
    legal_status_history: list[LegalStatusSpan] = Field(default=[], description=(
        "The child's legal status from each day of the placement (the referral's, then each change)"))
    links: PlacementLinks


class TaskOut(BaseModel):
    code: str
    label: str
    due_date: date
    owner: str
    done_on: date | None
    done_by: str | None
    state: str


class PlanVersionOut(BaseModel):
    version: int
    sections: dict[str, str]
    source: str
    review_id: uuid.UUID | None
    issued_on: date
    issued_at: datetime


class PlanOut(BaseModel):
    id: uuid.UUID
    placement_id: uuid.UUID
    status: Literal["draft", "issued"]
    due_date: date
    late: bool
    issued_version: int
    issued_on: date | None
    draft: dict[str, str] | None = Field(description="The working copy (the hub only)")
    current: PlanVersionOut | None
    versions: list[int]


class ReviewOut(BaseModel):
    id: uuid.UUID
    placement_id: uuid.UUID
    number: int
    kind: str
    due_date: date
    state: str
    completed_on: date | None
    attendees: list[str] | None
    findings: str | None
    plan_version: int | None


class DeadlineOut(BaseModel):
    deadline_key: str
    placement_id: uuid.UUID
    home_id: uuid.UUID
    kind: Literal["plan", "task", "review"]
    item: str
    due_date: date
    state: Literal["upcoming", "due_soon", "overdue"]


class EndingCode(BaseModel):
    code: str
    label: str


class PlacementPage(Page[PlacementOut], OmitsRestricted):
    pass


class DeadlinePage(Page[DeadlineOut], OmitsRestricted):
    pass


class ReviewPage(Page[ReviewOut]):
    """A placement's reviews (all of them: next_cursor is null)."""


class TaskPage(Page[TaskOut]):
    """A placement's Phase 1 tasks (all of them: next_cursor is null)."""


class PlanVersionPage(Page[PlanVersionOut]):
    """A plan's issued versions (all of them: next_cursor is null)."""


# --- outreach interventions (issue 16) -------------------------------------------------------------------
InterventionStatus = Literal["accepted", "active", "stepping_down", "closed"]
GoalCode = Literal["stabilise_placement", "school_attendance", "reduce_missing_episodes", "carer_support",
                   "family_relationships", "emotional_regulation", "exploitation_safety", "transition_support",
                   "health_engagement", "reduce_police_call_outs"]
WithWhom = Literal["child", "carers", "school", "family", "social_worker", "other_professional"]


class InterventionMove(Strict):
    status: Literal["active", "stepping_down", "closed"] = Field(description=(
        "accepted -> active -> stepping_down -> closed (active -> closed too; accepted -> closed as withdrawn)"))
    effective_date: date = Field(description="The day it happened (not in the future, not before the previous "
                                             "move); the activation's is the start billing charges from")
    outcome: Literal["stabilised", "breakdown", "withdrawn", "moved_on"] | None = Field(
        default=None, description="Closing only, and required then")
    stabilised_on: date | None = Field(default=None, description="Closing as stabilised: the day the placement "
                                                                 "was judged stable")


class InterventionPlanIn(Strict):
    goals: list[GoalCode] = Field(min_length=1, max_length=10, description="Goals as codes")
    sessions_per_week: int = Field(ge=1, le=14, description="Intensity")


class SessionIn(Strict):
    session_date: date
    minutes: int = Field(ge=1, le=600)
    with_whom: list[WithWhom] = Field(min_length=1, max_length=6, description="Codes only, each once: never names")


class FollowUpIn(Strict):
    checkpoint: Literal["6_weeks", "3_months", "6_months"]
    held: bool = Field(description="The child's placement was still holding")
    recorded_on: date
    breakdown_date: date | None = Field(default=None, description="When the placement broke down (held false)")


class InterventionPlanOut(BaseModel):
    goals: list[str]
    sessions_per_week: int
    version: int


class InterventionPlanVersion(BaseModel):
    version: int
    goals: list[str]
    sessions_per_week: int
    recorded_on: date
    by: str


class SessionOut(BaseModel):
    id: str
    session_date: date
    minutes: int
    with_whom: list[str]


class FollowUpOut(BaseModel):
    checkpoint: str
    due_date: date
    state: Literal["upcoming", "due_soon", "overdue", "recorded"]
    held: bool | None
    recorded_on: date | None
    breakdown_date: date | None


class InterventionOut(BaseModel):
    id: str
    admission_id: str
    referral_id: str
    la_code: str
    council_name: str | None = None
    team_id: str
    region: str | None
    basis: Literal["fixed_fee", "weekly"]
    planned_weeks: int
    planned_start_date: date
    current_setting: str | None
    handoff_from_placement_id: str | None
    status: InterventionStatus
    allowed_moves: list[str]
    start_date: date | None = Field(description="The day it became active")
    stepping_down_on: date | None
    end_date: date | None
    outcome: str | None
    stabilised_on: date | None
    plan: InterventionPlanOut
    plan_versions: list[InterventionPlanVersion]
    history: list[dict]
    sessions: list[SessionOut]
    session_count: int
    session_minutes: int
    follow_ups: list[FollowUpOut] = Field(description="6 weeks, 3 months and 6 months after the close")
    version: int
    links: dict
    restriction: RestrictionMarker | None = RESTRICTION_FIELD


class InterventionPage(Page[InterventionOut], OmitsRestricted):
    pass
