"""The referral service's own settings (environment, prefix ITP_REFERRAL_)."""
from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ReferralSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ITP_REFERRAL_", extra="ignore")

    # the age range the homes are registered for, inclusive, in whole years on the wanted start date
    age_min: int = Field(default=8, ge=0, le=25)
    age_max: int = Field(default=17, ge=0, le=25)
    # an undecided referral may be expired this many days after its wanted start date
    expire_after_days: int = Field(default=14, ge=0)
    # Idempotency-Keys of POST /v1/referrals are kept this long, then purged by a periodic job
    # (ITP_IDEMPOTENCY_RETENTION_HOURS, the name libs.common.http documents, or ITP_REFERRAL_IDEMPOTENCY_...)
    idempotency_retention_hours: int = Field(default=24, ge=1, validation_alias=AliasChoices(
        "ITP_IDEMPOTENCY_RETENTION_HOURS", "ITP_REFERRAL_IDEMPOTENCY_RETENTION_HOURS", "idempotency_retention_hours"))
