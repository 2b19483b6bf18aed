"""The outcomes service's HTTP contract (request and response models)."""
from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Informant = Literal["parent", "teacher", "self"]
Band = Literal["close_to_average", "slightly_raised", "high", "very_high"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SdqIn(Strict):
    informant: Informant = Field(description="parent (a carer counts as parent), teacher, or self (the young person)")
    items: dict[str, Any] = Field(description='The 25 items by number ("1".."25"): 0 not true, 1 somewhat true, '
                                              "2 certainly true, or null when not answered",
                                  examples=[{str(i): 0 for i in range(1, 26)}])
    impact: dict[str, Any] | None = Field(default=None, description=(
        "The impact supplement, when given: difficulties (true/false), distress and the areas (parent and self: "
        "home_life, friendships, classroom_learning, leisure_activities; teacher: peer_relationships, "
        "classroom_learning), each 0 not at all, 1 only a little, 2 quite a lot, 3 a great deal"))


class SdqScales(BaseModel):
    emotional: int | None
    conduct: int | None
    hyperactivity: int | None
    peer: int | None
    prosocial: int | None


class ImpactOut(BaseModel):
    score: int | None
    band: Band | None


class SdqScoreOut(BaseModel):
    scales: SdqScales
    total_difficulties: int | None
    externalising: int | None
    internalising: int | None
    band: Band | None
    impact: ImpactOut | None = Field(default=None, description="Only when the impact supplement was given")


class MeasuresIn(Strict):
    timepoint: str = Field(examples=["baseline", "day_28", "day_90", "six_monthly_1", "ending"])
    recorded_on: date
    sdq: SdqIn | None = None
    education: dict[str, Any] | None = Field(default=None, examples=[{
        "attendance_percent": 82.5, "provision_type": "mainstream", "ehcp_status": "in_place", "exclusions": 0}])
    health: dict[str, Any] | None = Field(default=None, examples=[{
        "gp_registered": True, "dentist_registered": True, "camhs_engaged": True,
        "health_assessment_up_to_date": True}])
    stability: dict[str, Any] | None = Field(default=None, examples=[{
        "missing_episodes": 0, "police_callouts": 0, "incidents": 1, "placement_moves": 0}])


CorrectionReason = Literal["entry_error", "wrong_timepoint_values", "wrong_informant", "late_information", "other"]


class CorrectionIn(Strict):
    reason_code: CorrectionReason = Field(description="Why the recorded values were wrong (a code; no free text)")
    sdq: SdqIn | None = None
    education: dict[str, Any] | None = None
    health: dict[str, Any] | None = None
    stability: dict[str, Any] | None = None


class BreakdownCostIn(Strict):
    breakdown_cost: str = Field(examples=["50000.00"], description=(
        "The council's assumed cost of one placement breakdown, in pounds as a decimal string (emergency moves, "
        "legal fees, staff time)"))


class SegmentIn(BaseModel):
    setting: Any = None
    length: Any = None
    unit: Any = None
    rate: Any = None
    rate_per: Any = None
    stated_total: Any = None


class CompareIn(BaseModel):
    weeks_per_month: Any = Field(default=4, description="How many weeks a month counts as (4 by default)")
    actual: list[dict[str, Any]] = Field(examples=[[{"setting": "Residential Placement (out of county)",
                                                     "length": 28, "unit": "week", "rate": "4900.00",
                                                     "rate_per": "week", "stated_total": "137200.00"}]])
    alternative: list[dict[str, Any]]


class PlacementCompareIn(BaseModel):
    weeks_per_month: Any = Field(default=4, description="How many weeks a month counts as (4 by default)")
    before: list[dict[str, Any]] = Field(default=[], description="The council's placements before the service, "
                                         "in /v1/journeys/compare's segment shape",
                                         examples=[[{"setting": "Residential Placement (out of county)",
                                                     "length": 20, "unit": "week", "rate": "6500.00",
                                                     "rate_per": "week"}]])
    after: list[dict[str, Any]] = Field(default=[], description="The placements after (e.g. the step-down)",
                                        examples=[[{"setting": "Foster care", "length": 26, "unit": "week",
                                                    "rate": "900.00", "rate_per": "week"}]])
    alternative: list[dict[str, Any]] = Field(description="The journey to compare with")
