"""The envelope every event travels in. Payloads never carry a child's name."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, Field


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class EventEnvelope(BaseModel):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, description="Unique event id; consumers deduplicate on it")
    type: str = Field(examples=["referral.received"])
    version: int = 1
    time: datetime = Field(default_factory=utcnow, description="When the event happened (UTC)")
    producer: str = Field(examples=["referral"])
    subject_id: str = Field(description="The aggregate id; also the Kafka key, so one aggregate's events stay in order")
    la_code: str | None = Field(default=None, description="The local authority (tenant) the event belongs to",
                                examples=["E10000018"])
    correlation_id: str | None = None
    causation_id: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)

    def council(self) -> str:
        """The council the event belongs to; an event about a child without one is refused (and parked)."""
        if not self.la_code:
            raise ValueError(f"{self.type} without the council's la_code in its envelope")
        return self.la_code

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> "EventEnvelope":
        return cls.model_validate_json(raw)
