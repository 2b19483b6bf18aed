from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from libs.common.events.catalogue import CATALOGUE


# every collection a client sends is bounded: at most 50 event types, each at most 100 characters
EventType = Annotated[str, StringConstraints(min_length=1, max_length=100)]
MAX_EVENT_TYPES = 50


def _known(event_type: str) -> str:
    if event_type == "*" or event_type in CATALOGUE:
        return event_type
    if event_type.endswith(".*") and any(t.startswith(event_type[:-1]) for t in CATALOGUE):
        return event_type
    raise ValueError(f"{event_type!r} is not an event type in the catalogue (e.g. referral.received, "
                     f"referral.*, or *)")


class WebhookEndpointCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(max_length=2000, examples=["https://case-system.example.gov.uk/itp/webhooks"])
    event_types: list[EventType] = Field(min_length=1, max_length=MAX_EVENT_TYPES, examples=[["referral.*", "admission.accepted"]])
    description: str | None = Field(default=None, max_length=500)

    @field_validator("event_types")
    @classmethod
    def _event_types_known(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(_known(v) for v in value))


class WebhookEndpointUpdate(BaseModel):
    """Only the fields sent change. Send If-Match with the ETag from the last read."""
    model_config = ConfigDict(extra="forbid")
    url: str | None = Field(default=None, max_length=2000)
    event_types: list[EventType] | None = Field(default=None, min_length=1, max_length=MAX_EVENT_TYPES)
    description: str | None = Field(default=None, max_length=500)

    @field_validator("event_types")
    @classmethod
    def _event_types_known(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else list(dict.fromkeys(_known(v) for v in value))


class WebhookEndpoint(BaseModel):
    id: str
    la_code: str
    url: str
    event_types: list[str]
    description: str | None = None
    active: bool
    disabled_reason: str | None = Field(default=None, description="Why the gateway disabled the endpoint")
    disabled_at: datetime | None = None
    consecutive_failures: int
    version: int
    created_at: datetime


class WebhookEndpointCreated(WebhookEndpoint):
    secret: str = Field(description="The signing secret (whsec_...); verify deliveries with it. Shown on creation only.")


class WebhookEndpointList(BaseModel):
    items: list[WebhookEndpoint]


class DeliveryAttempt(BaseModel):
    attempted_at: datetime
    status_code: int | None = Field(description="The receiver's status code; null when it did not answer")
    error: str | None = Field(default=None, description="Why the attempt failed, as a code: refused_address, "
                              "refused_url, dns_failure, connect_failed, timeout, tls_error, protocol_error or "
                              "http_<status>", examples=["http_503"])
    duration_ms: int
    manual: bool


class Delivery(BaseModel):
    id: str = Field(description="The webhook-id header: the same on every attempt, for deduplication")
    event_id: str
    event_type: str
    state: str = Field(description="pending (first attempt due), failed (a retry is scheduled), redeliver (asked "
                                   "for by hand), succeeded, abandoned (the retry schedule is spent), withheld (not "
                                   "sent: the child's record is under a restriction of processing; never sent, "
                                   "not even after the lift)",
                       examples=["succeeded"])
    attempts: int
    next_attempt_at: datetime | None = None
    last_status_code: int | None = None
    created_at: datetime
    withheld_reason: Literal["restriction"] | None = Field(default=None, description=(
        "Why a withheld delivery was not sent, as a code: restriction (a restriction of processing on the child's "
        "record, decision 0006; the council heard of it by referral.restricted)"))
    restriction_id: str | None = Field(default=None, description=(
        "A withheld delivery: the restriction in force (the restriction_id of referral.restricted)"))
    log: list[DeliveryAttempt] = []


class DeliveryList(BaseModel):
    items: list[Delivery]
