"""Matching's own settings (environment prefix ITP_MATCHING_)."""
from __future__ import annotations

import functools

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class MatchingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ITP_MATCHING_", extra="ignore")

    # an accepted admission's bed is released if the child has not arrived by planned start + this
    reservation_grace_hours: int = 24
    default_phase_1_limit: int = 1
    # how many ranked options an answer shows by default (homes_ranked always counts them all)
    default_options: int = 25
    # Idempotency-Keys of matching's writes are kept this long, then purged by a periodic job
    # (ITP_IDEMPOTENCY_RETENTION_HOURS, the name libs.common.http documents, or ITP_MATCHING_IDEMPOTENCY_...)
    idempotency_retention_hours: int = Field(default=24, ge=1, validation_alias=AliasChoices(
        "ITP_IDEMPOTENCY_RETENTION_HOURS", "ITP_MATCHING_IDEMPOTENCY_RETENTION_HOURS", "idempotency_retention_hours"))


@functools.cache
def matching_settings() -> MatchingSettings:
    """The process's settings, read from the environment once (reading them per ranking was 3% of matching's
    CPU under load)."""
    return MatchingSettings()
