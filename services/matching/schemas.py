from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field


class MatchOption(BaseModel):
    home_id: uuid.UUID
    rating: str = Field(examples=["low", "medium", "high", "unacceptable"])


class MatchRanking(BaseModel):
    referral_id: uuid.UUID
    referral_status: str
    received_at: datetime
    options: list[MatchOption] = Field(description="Homes ranked best first; empty when none can take the child")
