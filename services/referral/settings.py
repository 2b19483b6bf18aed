"""The referral service's own settings (environment, prefix ITP_REFERRAL_)."""
from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ReferralSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ITP_REFERRAL_", extra="ignore")

    # the age range the homes are registered for, inclusive, in whole years on the wanted start date
    age_min: int = Field(default=8, ge=0, le=25)
    age_max: int = Field(default=17, ge=0, le=25)
    # an undecided referral may be expired this many days after its wanted start date
    expire_after_days: int = Field(default=14, ge=0)
