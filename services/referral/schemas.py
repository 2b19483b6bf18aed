from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from libs.common.events.catalogue import NeedOrRisk

from .domain.referral import InvalidPostcode, outward_code


class ReferralCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "child_ref": "LCC-2026-00417", "date_of_birth": "2012-03-14", "sex": "female",
        "legal_status": "C2", "home_postcode": "LE4 6AB", "urgency": "crisis", "wanted_start_date": "2026-11-23",
        "needs": [{"code": "mental_health", "severity": "high"}],
        "risks": [{"code": "missing_episodes", "severity": "medium"}]}]})

    child_ref: str = Field(min_length=1, max_length=64, description="The council's own reference for the child")
    date_of_birth: date
    sex: Literal["female", "male"]
    legal_status: str | None = Field(default=None, max_length=4)
    home_postcode: str | None = Field(default=None, description="Full UK postcode; only its outward code is kept")
    needs: list[NeedOrRisk] = []
    risks: list[NeedOrRisk] = []
    urgency: Literal["crisis", "urgent", "planned"]
    wanted_start_date: date | None = None

    @field_validator("home_postcode")
    @classmethod
    def _postcode(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return outward_code(value)
        except InvalidPostcode as exc:
            raise ValueError(str(exc)) from None


class Referral(BaseModel):
    id: uuid.UUID
    la_code: str
    child_ref: str
    date_of_birth: date
    sex: str
    legal_status: str | None
    home_outward_code: str | None
    needs: list[NeedOrRisk]
    risks: list[NeedOrRisk]
    urgency: str
    wanted_start_date: date | None
    status: str
    version: int
    received_at: datetime
    updated_at: datetime
