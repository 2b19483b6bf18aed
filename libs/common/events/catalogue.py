"""The typed catalogue of every event the system exchanges.

Each event type has a pydantic payload model, a version and a topic (one topic per event family).
Events are keyed by the aggregate id (the envelope's subject_id). docs/asyncapi.json is generated
from this module and a test keeps the two in step.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# Topics: one per event family, keyed by the aggregate id.
TOPIC_REFERRALS = "itp.referrals"      # key: referral id
TOPIC_HOMES = "itp.homes"              # key: home id
TOPIC_ADMISSIONS = "itp.admissions"    # key: referral id (impact risk assessed, admission accepted/declined)
TOPIC_PLACEMENTS = "itp.placements"    # key: placement id (placement, phase, plan, review events)
TOPIC_BILLING = "itp.billing"          # key: fee period id / invoice id; referral id (placement.fee_applied)
TOPIC_OUTCOMES = "itp.outcomes"        # key: placement id
TOPIC_WEBHOOKS = "itp.webhooks"        # key: webhook endpoint id
TOPIC_INTERVENTIONS = "itp.interventions"  # key: intervention id (outreach interventions, issue 16)
TOPICS = (TOPIC_REFERRALS, TOPIC_HOMES, TOPIC_ADMISSIONS, TOPIC_PLACEMENTS, TOPIC_BILLING, TOPIC_OUTCOMES,
          TOPIC_WEBHOOKS, TOPIC_INTERVENTIONS)


def dead_letter_topic(service: str) -> str:
    """Each consuming service parks the events it could not handle on its own dead-letter topic."""
    return f"itp.dead-letter.{service}"


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NeedOrRisk(Payload):
    code: str = Field(examples=["exploitation_risk"])
    severity: Literal["low", "medium", "high"] = "medium"


# --- referral family -------------------------------------------------------------------------
class PlacementRequirements(Payload):
    """The coded placement requirements matching weighs (issue 12: the Placements Data Standard's MUST fields and
    hard facts, in the referral's codes, GET /v1/referrals/vocabulary). Never free text."""
    living_companions: Literal["solo", "with_other_children", "older_children_only", "younger_children_only",
                               "no_preference"] | None = None
    pets: Literal["must_live_with_pets", "can_live_with_pets", "no_pets", "not_known"] | None = None
    deprivation_of_liberty: bool | None = None
    sibling_count: int | None = Field(default=None, description="Siblings to be placed with the child")
    communication_needs: Literal["yes", "no", "not_specified"] | None = None
    communication_requirements: list[str] = Field(default=[], examples=[["bsl"]])
    home_adaptation: bool | None = None
    cultural_needs: str | None = None
    additional_support: str | None = None
    residential_care_suitability: Literal["preferred", "suitable_not_preferred", "unsuitable",
                                          "not_specified"] | None = None


class ReferralReceived(Payload):
    referral_id: uuid.UUID
    child_ref: str = Field(description="The council's own reference for the child (never the name)")
    date_of_birth: date
    sex: Literal["female", "male", "unknown"]
    legal_status: str | None = None
    home_outward_code: str | None = Field(default=None, description="Outward code only, e.g. LE4")
    category_of_need: str | None = Field(default=None, description="SSDA903 CIN code (N1 to N8)")
    needs: list[NeedOrRisk] = []
    risks: list[NeedOrRisk] = []
    urgency: Literal["crisis", "urgent", "planned"]
    wanted_start_date: date | None = None
    received_at: datetime
    kind: Literal["bed", "outreach"] = Field(default="bed", description=(
        "bed: a Pathway Bed in one of the provider's homes; outreach: the assessment and outreach team works with "
        "the child where the child lives now (issue 16)"))
    current_setting: Literal["own_home", "foster_care", "ifa", "other_residential", "hospital",
                             "step_down_destination"] | None = Field(default=None, description=(
        "Outreach: where the child lives now (home_outward_code is that place's outward code)"))
    at_risk: list[str] = Field(default=[], examples=[["placement_breakdown", "school_place"]], description=(
        "Outreach: what is at risk, as codes (GET /v1/referrals/vocabulary)"))
    outreach_basis: Literal["fixed_fee", "weekly"] | None = Field(default=None, description=(
        "Outreach: a fixed-fee six-week intervention or weekly outreach"))
    outreach_planned_weeks: int | None = Field(default=None, examples=[26], description=(
        "Outreach: the weeks the council asks for (weekly outreach; a fixed fee is six weeks unless said)"))
    handoff_from_placement_id: uuid.UUID | None = Field(default=None, description=(
        "Outreach that follows a child out of a Pathway Bed: the placement that stepped down"))
    no_known_risks: list[str] = Field(default=[], description=(
        "Risk codes asked about with no known risk (issue 12); a code in neither list was not asked"))
    placement_requirements: PlacementRequirements | None = Field(default=None, description=(
        "What the placement must allow (issue 12): living companions, pets, deprivation of liberty, siblings, "
        "communication, adaptation, residential care suitability"))


class ReferralUpdated(ReferralReceived):
    status: str = "received"


class ReferralWithdrawn(Payload):
    referral_id: uuid.UUID
    reason: str | None = None
    withdrawn_at: datetime


class ReferralRestricted(Payload):
    """The hub recorded a restriction of processing on a child's record (what a right-to-erasure request becomes;
    docs/decisions/0006-retention.md): nothing is deleted; from now on the record is served to the hub only.
    Codes only."""
    referral_id: uuid.UUID
    restriction_id: uuid.UUID
    reason_code: str = Field(examples=["erasure_request"])
    requested_on: date
    scope: list[str] = Field(examples=[["case_record"]], description="The parts of the record the request names")
    recorded_at: datetime


class ReferralRestrictionLifted(Payload):
    """The hub lifted a restriction of processing (decision 0006): a recorded act; the record was never touched,
    and from now on the council reads it again (unless another restriction is in force). Codes only."""
    referral_id: uuid.UUID
    restriction_id: uuid.UUID
    reason_code: str = Field(examples=["erasure_request"], description="The lifted restriction's reason")
    lifted_at: datetime


class ReferralStatusChanged(Payload):
    """One event for every change of a referral's status, whatever moved it (the council, the hub's
    decisions, the expiry sweep): subscribe to this one type to follow a referral. The older events
    (referral.updated, referral.withdrawn, admission.accepted/declined) are still sent."""
    referral_id: uuid.UUID
    from_status: Literal["received", "in_assessment"] = Field(
        description="The status before; only an open referral changes status", examples=["received"])
    to_status: Literal["in_assessment", "accepted", "declined", "withdrawn", "expired"] = Field(
        examples=["in_assessment"])
    at: datetime = Field(description="When the status changed")
    reason_code: str | None = Field(default=None, examples=["impact_risk_assessed", "risk_to_current_group"],
                                    description=(
        "Why, as a code: impact_risk_assessed (in_assessment), the decline or withdrawal reason code, "
        "not_decided_in_time (expired); null for an acceptance"))
    version: int = Field(description="The referral's version (its ETag) after the change")
    admission_id: uuid.UUID | None = Field(default=None, description="The hub's decision, when there is one")
    placement_id: uuid.UUID | None = Field(default=None, description=(
        "Accepted: the placement the child will have (GET /v1/placements/{placement_id})"))


# --- homes and matching ------------------------------------------------------------------------
class HomeOnboarded(Payload):
    home_id: uuid.UUID
    urn: str = Field(examples=["SC123456"])
    postcode_district: str | None = None
    registered_places: int
    age_min: int
    age_max: int


class ImpactRiskAssessed(Payload):
    referral_id: uuid.UUID
    rules_version: str
    homes_considered: int
    homes_ranked: int
    top_home_id: uuid.UUID | None = None
    kind: Literal["bed", "outreach"] = Field(default="bed", description=(
        "outreach: the hub recorded its ranking of outreach teams (homes_* are 0; teams_* say how many)"))
    teams_considered: int | None = None
    teams_ranked: int | None = None
    top_team_id: uuid.UUID | None = None


class MatchAssessed(ImpactRiskAssessed):
    """Deprecated: impact_risk.assessed under its former type, match.assessed. Nothing emits it any more;
    it stays in the catalogue so that an old event (in flight, replayed or parked) still decodes."""


class AdmissionAccepted(Payload):
    admission_id: uuid.UUID
    referral_id: uuid.UUID
    home_id: uuid.UUID
    bed_id: uuid.UUID
    planned_start_date: date
    fee_basis_hint: str | None = Field(default=None, examples=["enhanced_assessment"])
    home_urn: str | None = Field(default=None, examples=["SC123456"], description=(
        "The home's Ofsted URN (SSDA903 URN), for the placement's episodes"))
    home_postcode: str | None = Field(default=None, examples=["LE4 1AB"], description=(
        "The home's postcode (SSDA903 PL_POST: a home's address, never the child's)"))


class AdmissionDeclined(Payload):
    admission_id: uuid.UUID
    referral_id: uuid.UUID
    reason_code: Literal["risk_to_current_group", "needs_beyond_registration", "no_vacancy", "staffing", "other",
                         "no_team_capacity", "outside_reach"]
    reason_text: str | None = None


class OutreachAccepted(Payload):
    """The hub accepted an outreach referral for one of its outreach teams (the bed referral's admission.accepted
    for outreach). The decision id is the admission_id, so admission.declined serves both kinds."""
    admission_id: uuid.UUID
    referral_id: uuid.UUID
    team_id: uuid.UUID
    region: str | None = Field(default=None, examples=["east_midlands"])
    basis: Literal["fixed_fee", "weekly"]
    planned_weeks: int = Field(examples=[6, 26])
    planned_start_date: date


# --- placements --------------------------------------------------------------------------------
class PlacementStarted(Payload):
    placement_id: uuid.UUID
    referral_id: uuid.UUID
    home_id: uuid.UUID
    bed_id: uuid.UUID
    start_date: date


class PhaseTransitioned(Payload):
    placement_id: uuid.UUID
    from_phase: str | None
    to_phase: str = Field(examples=["phase_2"])
    effective_date: date
    reason: str | None = None
    backdated: bool = False
    phase_ends_on: date | None = Field(default=None, description=(
        "The planned last day of the phase now running (Phase 1: day 28, or as extended). An extension of "
        "Phase 1 is sent as phase_1 -> phase_1 from the day after the old end, with the new end here."))


class PathwayPlanIssued(Payload):
    plan_id: uuid.UUID
    placement_id: uuid.UUID
    version: int
    issued_at: datetime


class ReviewCompleted(Payload):
    review_id: uuid.UUID
    placement_id: uuid.UUID
    kind: str = Field(examples=["90_day"])
    completed_on: date
    plan_version: int | None = None


class PlacementLegalStatusChanged(Payload):
    """The child's legal status changed during the placement, from a day (a new SSDA903 episode, RNE L)."""
    placement_id: uuid.UUID
    referral_id: uuid.UUID
    legal_status: str = Field(examples=["C2"])
    previous_legal_status: str | None = None
    effective_date: date


class OutreachHandoff(Payload):
    basis: Literal["fixed_fee", "weekly"] = "weekly"
    planned_weeks: int = Field(examples=[26])
    setting: Literal["own_home", "foster_care", "ifa", "other_residential", "hospital",
                     "step_down_destination"] = "step_down_destination"
    outward_code: str | None = Field(default=None, examples=["NG7"], description="Where the child moves to")


class PlacementEnded(Payload):
    placement_id: uuid.UUID
    home_id: uuid.UUID
    bed_id: uuid.UUID
    end_date: date
    planned: bool
    ending_type: str = Field(examples=["step_down", "breakdown"])
    reason_code: str | None = Field(default=None, description="Looked-after children 'reason episode ceased' code")
    destination: str | None = None
    reason_place_change: str | None = Field(default=None, description=(
        "An X1 ending: the SSDA903 reason for the placement change (CARPL, CLOSE, ...)"))
    outreach_handoff: OutreachHandoff | None = Field(default=None, description=(
        "A step-down that hands the child to the outreach team in the next placement (the referral service "
        "opens an outreach referral for it)"))


class DeadlineNotice(Payload):
    deadline_key: str = Field(description="placement id, kind and item: the same deadline always has the same key",
                              examples=["5b1d...:task:safety_and_risk_plan"])
    placement_id: uuid.UUID | None = Field(description=(
        "The placement; null only on an outreach intervention's follow-up (kind follow_up, see intervention_id)"))
    home_id: uuid.UUID | None = Field(description="The placement's home; null on an intervention's follow-up")
    kind: Literal["plan", "task", "review", "measure", "follow_up"] = Field(
        description="measure: an outcome measurement point (outcomes service; item is the timepoint); follow_up: "
                    "whether an outreach intervention's placement held (item 6_weeks, 3_months or 6_months)")
    item: str = Field(examples=["initial_pathway_plan", "safety_and_risk_plan", "90_day", "day_28"])
    due_date: date
    intervention_id: uuid.UUID | None = Field(default=None, description=(
        "A follow-up check of an outreach intervention (kind follow_up): the intervention (issue 16)"))


class DeadlineDueSoon(DeadlineNotice):
    pass


class DeadlineMissed(DeadlineNotice):
    pass


# --- outreach interventions (issue 16), key: intervention id ------------------------------------
class InterventionStarted(Payload):
    intervention_id: uuid.UUID
    referral_id: uuid.UUID
    admission_id: uuid.UUID
    team_id: uuid.UUID
    basis: Literal["fixed_fee", "weekly"]
    planned_weeks: int
    start_date: date
    current_setting: str | None = None


class InterventionStatusChanged(Payload):
    intervention_id: uuid.UUID
    referral_id: uuid.UUID
    from_status: Literal["accepted", "active", "stepping_down"] | None
    to_status: Literal["accepted", "active", "stepping_down", "closed"]
    effective_date: date
    at: datetime


class InterventionSessionLogged(Payload):
    """A session with the child or the people around the child: codes and numbers, never names or notes."""
    intervention_id: uuid.UUID
    session_id: uuid.UUID
    session_date: date
    minutes: int
    with_whom: list[Literal["child", "carers", "school", "family", "social_worker", "other_professional"]]


class InterventionFollowUpRecorded(Payload):
    intervention_id: uuid.UUID
    referral_id: uuid.UUID
    checkpoint: Literal["6_weeks", "3_months", "6_months"]
    due_date: date
    held: bool = Field(description="The child's placement was still holding at the checkpoint")
    recorded_on: date
    breakdown_date: date | None = None


class InterventionClosed(Payload):
    intervention_id: uuid.UUID
    referral_id: uuid.UUID
    team_id: uuid.UUID
    start_date: date
    end_date: date
    outcome: Literal["stabilised", "breakdown", "withdrawn", "moved_on"]
    stabilised_on: date | None = Field(default=None, description="The day the placement was judged stable")
    sessions: int = 0


# --- billing and outcomes ------------------------------------------------------------------------
class FeePeriodClosed(Payload):
    fee_period_id: uuid.UUID
    period_start: date
    period_end: date
    closed_at: datetime
    scheme: str = Field(default="calendar_month", examples=["calendar_month", "four_weekly@2025-01-06"])
    invoices: int = Field(default=0, description="Invoices and credit notes issued by the close")


class InvoiceLine(Payload):
    """One line of an issued invoice: codes, ids, dates and numbers only (no name, no council child reference,
    no free text). An adjustment recalculates an earlier line (`adjusts_line_id`) over that line's days; the
    line's amount plus every adjustment referring to it is what those days cost."""
    line_id: uuid.UUID
    line_no: int
    kind: Literal["charge", "late", "adjustment"] = Field(
        description="charge: this period's days; late: earlier days not invoiced before; adjustment: a "
                    "recalculation of an earlier line")
    stream: str = Field(examples=["fee"], description="fee, add_on:<add-on id> or block")
    rate_key: str | None = Field(default=None, examples=["phase_1"],
                                 description="phase_1, phase_2, blended, add_on:<kind> or block; null on an "
                                             "adjustment mixing rates")
    referral_id: uuid.UUID | None = Field(default=None, description="The child's referral (null on a block line)")
    placement_id: uuid.UUID | None = Field(default=None, description="Null on a block contract's line")
    from_date: date
    to_date: date = Field(description="Inclusive")
    days: int
    weekly_pence: int | None = Field(default=None, examples=[520000],
                                     description="The weekly rate (the daily rate is weekly / 7, not whole pence)")
    amount_pence: int = Field(description="Negative on an adjustment that credits")
    adjusts_line_id: uuid.UUID | None = Field(default=None, description="The line an adjustment recalculates")
    intervention_id: uuid.UUID | None = Field(default=None, description="An outreach line: the intervention")
    child_withheld: bool = Field(default=False, description=(
        "True only in a council's webhook delivery, on a line for a child whose record is under a restriction of "
        "processing (decision 0006): the amount stays, referral_id, placement_id and intervention_id are withheld"))


class InvoiceIssued(Payload):
    invoice_id: uuid.UUID
    fee_period_id: uuid.UUID
    contract_id: uuid.UUID | None = None
    total_pence: int
    number: str | None = Field(default=None, examples=["INV-E10000018-000042"],
                               description="Gapless within its sequence (per council; credit notes have their own)")
    kind: Literal["invoice", "credit_note"] = "invoice"
    period_start: date | None = None
    period_end: date | None = None
    total: str | None = Field(default=None, examples=["23660.00"], description="The total as a decimal string")
    currency: Literal["GBP"] = "GBP"
    lines: list[InvoiceLine] | None = Field(default=None, description="The invoice's lines (their amounts add up "
                                                                      "to total_pence); null from older producers")


class PlacementFeeApplied(Payload):
    """The weekly fee that applies to a child's admission and placement changed (or was first known): at
    acceptance, at arrival, at a phase transition, at the end, when the council's contract or fee schedule
    changes, or when a dated change takes effect. `weekly_fee_pence` is null when no contract or fee schedule
    covers the council on that day (basis `no_contract` / `unpriced`): visible, not an error."""
    referral_id: uuid.UUID
    admission_id: uuid.UUID | None = None
    placement_id: uuid.UUID | None = Field(default=None, description="Once the child has arrived")
    home_id: uuid.UUID | None = None
    contract_id: uuid.UUID | None = None
    weekly_fee_pence: int | None = Field(default=None, examples=[520000])
    weekly_fee: str | None = Field(default=None, examples=["5200.00"], description="The weekly fee as a decimal string")
    currency: Literal["GBP"] = "GBP"
    basis: Literal["phase_1", "phase_2", "blended", "no_contract", "unpriced"] = Field(
        description="Which rate applies: Phase 1 enhanced assessment fee, Phase 2 standard therapeutic fee, the "
                    "blended fee; or why none does")
    effective_date: date | None = Field(default=None, description="The day from which this fee applies")
    as_of: date = Field(description="The day the fee was worked out for (today, or the planned start if later)")
    reason: Literal["admission_accepted", "placement_started", "phase_transitioned", "placement_ended",
                    "contract_changed", "date_reached"]
    sequence: int = Field(description="Increases with each notice for the referral: a consumer keeps the highest")


class OutcomeRecorded(Payload):
    """One measure recorded at a placement's measurement point: a code and a number, never free text or a
    name (booleans as 0/1; a coded value such as provision_type is sent with value null)."""
    outcome_id: uuid.UUID
    placement_id: uuid.UUID
    measure: str = Field(examples=["sdq_total", "sdq_emotional", "education.attendance_percent",
                                   "stability.missing_episodes"])
    timepoint: str = Field(examples=["baseline", "day_28", "day_90", "six_monthly_1", "ending"])
    value: int | None = None
    recorded_on: date
    referral_id: uuid.UUID | None = Field(default=None, description="The child's record (the referral id)")
    correction: bool = Field(default=False, description=(
        "A correction: this value supersedes the one sent before for the same placement, timepoint and measure"))
    correction_reason: str | None = Field(default=None, examples=["entry_error"], description=(
        "Why it was corrected, as a code (entry_error, wrong_timepoint_values, wrong_informant, late_information, "
        "other)"))


# --- the gateway ----------------------------------------------------------------------------------
class WebhookEndpointDisabled(Payload):
    endpoint_id: uuid.UUID
    consecutive_failures: int
    failing_since: datetime | None = None
    disabled_at: datetime
    reason: str


@dataclass(frozen=True)
class EventSpec:
    type: str
    version: int
    topic: str
    payload: type[Payload]
    summary: str


CATALOGUE: dict[str, EventSpec] = {s.type: s for s in [
    EventSpec("referral.received", 1, TOPIC_REFERRALS, ReferralReceived, "A council referred a child."),
    EventSpec("referral.updated", 1, TOPIC_REFERRALS, ReferralUpdated, "A council changed a referral."),
    EventSpec("referral.withdrawn", 1, TOPIC_REFERRALS, ReferralWithdrawn, "A council withdrew a referral."),
    EventSpec("referral.status_changed", 1, TOPIC_REFERRALS, ReferralStatusChanged,
              "A referral's status changed (one event per change, with the old and new status and why)."),
    EventSpec("referral.restricted", 1, TOPIC_REFERRALS, ReferralRestricted,
              "The hub recorded a restriction of processing on a child's record (served to the hub only from now)."),
    EventSpec("referral.restriction_lifted", 1, TOPIC_REFERRALS, ReferralRestrictionLifted,
              "The hub lifted a restriction of processing: the council reads the child's record again."),
    EventSpec("home.onboarded", 1, TOPIC_HOMES, HomeOnboarded, "A spoke home went live."),
    EventSpec("impact_risk.assessed", 1, TOPIC_ADMISSIONS, ImpactRiskAssessed,
              "An impact risk assessment ranked the homes for a referral."),
    EventSpec("match.assessed", 1, TOPIC_ADMISSIONS, MatchAssessed,
              "Deprecated: the former type of impact_risk.assessed, no longer emitted; still decoded (same payload)."),
    EventSpec("admission.accepted", 1, TOPIC_ADMISSIONS, AdmissionAccepted, "The hub accepted a referral into a Pathway Bed."),
    EventSpec("admission.declined", 1, TOPIC_ADMISSIONS, AdmissionDeclined, "The hub declined a referral, with a coded reason."),
    EventSpec("outreach.accepted", 1, TOPIC_ADMISSIONS, OutreachAccepted,
              "The hub accepted an outreach referral for one of its outreach teams."),
    EventSpec("placement.started", 1, TOPIC_PLACEMENTS, PlacementStarted, "The child arrived; Phase 1 begins."),
    EventSpec("phase.transitioned", 1, TOPIC_PLACEMENTS, PhaseTransitioned, "A placement moved phase at an effective date."),
    EventSpec("pathway_plan.issued", 1, TOPIC_PLACEMENTS, PathwayPlanIssued, "A version of the Initial Pathway Plan was issued."),
    EventSpec("review.completed", 1, TOPIC_PLACEMENTS, ReviewCompleted, "A plan review was completed."),
    EventSpec("placement.legal_status_changed", 1, TOPIC_PLACEMENTS, PlacementLegalStatusChanged,
              "The child's legal status changed during the placement, with the day it took effect."),
    EventSpec("placement.ended", 1, TOPIC_PLACEMENTS, PlacementEnded, "A placement ended, planned or not."),
    EventSpec("deadline.due_soon", 1, TOPIC_PLACEMENTS, DeadlineDueSoon,
              "A plan, Phase 1 task, review or outcome measurement deadline falls due within days (sent once per deadline)."),
    EventSpec("deadline.missed", 1, TOPIC_PLACEMENTS, DeadlineMissed,
              "A plan, Phase 1 task, review or outcome measurement deadline passed without being met (sent once per deadline)."),
    EventSpec("intervention.started", 1, TOPIC_INTERVENTIONS, InterventionStarted,
              "An outreach intervention began for an accepted outreach referral."),
    EventSpec("intervention.status_changed", 1, TOPIC_INTERVENTIONS, InterventionStatusChanged,
              "An outreach intervention moved status (accepted, active, stepping down, closed)."),
    EventSpec("intervention.session_logged", 1, TOPIC_INTERVENTIONS, InterventionSessionLogged,
              "An outreach session was logged (date, length, with whom as codes)."),
    EventSpec("intervention.follow_up_recorded", 1, TOPIC_INTERVENTIONS, InterventionFollowUpRecorded,
              "Whether the child's placement held at 6 weeks, 3 months or 6 months after an intervention."),
    EventSpec("intervention.closed", 1, TOPIC_INTERVENTIONS, InterventionClosed,
              "An outreach intervention closed, with its outcome."),
    EventSpec("fee_period.closed", 1, TOPIC_BILLING, FeePeriodClosed, "Finance closed a fee period."),
    EventSpec("invoice.issued", 1, TOPIC_BILLING, InvoiceIssued, "An invoice was issued to a council."),
    EventSpec("placement.fee_applied", 1, TOPIC_BILLING, PlacementFeeApplied,
              "The weekly fee that applies to an admission and its placement changed (councils compare costs by it)."),
    EventSpec("outcome.recorded", 1, TOPIC_OUTCOMES, OutcomeRecorded, "An outcome measure was recorded."),
    EventSpec("webhook_endpoint.disabled", 1, TOPIC_WEBHOOKS, WebhookEndpointDisabled,
              "The gateway disabled a council's webhook endpoint that kept failing (the notice)."),
]}

_BY_MODEL = {spec.payload: spec for spec in CATALOGUE.values()}

# Renamed event types: the old type (still in CATALOGUE with a payload of the same fields, so an old event
# decodes) -> the current one. A consumer of the current type also handles the old one with the same handler.
DEPRECATED_ALIASES: dict[str, str] = {"match.assessed": "impact_risk.assessed"}


def spec_for(payload: Payload | type[Payload]) -> EventSpec:
    model = payload if isinstance(payload, type) else type(payload)
    try:
        return _BY_MODEL[model]
    except KeyError:
        raise KeyError(f"{model.__name__} is not in the event catalogue") from None


def parse_payload(event_type: str, payload: dict) -> Payload:
    return CATALOGUE[event_type].payload.model_validate(payload)
