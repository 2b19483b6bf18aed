"""What the referral routes share: who may call them, the service's settings, and a referral's answer."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from libs.common.auth import Authorize, Principal
from libs.common.http import Written, etag

from .. import repository as repo
from ..schemas import Referral
from ..settings import ReferralSettings

Reader = Annotated[Principal, Authorize("referrals:read")]
Writer = Annotated[Principal, Authorize("referrals:write")]


def referral_settings(request: Request) -> ReferralSettings:
    return request.app.state.referral_settings


Config = Annotated[ReferralSettings, Depends(referral_settings)]


def referral_view(row: dict) -> Referral:
    return Referral.model_validate(repo.to_response(row))


def written(row: dict, *, status_code: int = 200, headers: dict[str, str] | None = None) -> Written:
    """A change's answer: the referral, its ETag, and the child record touched (for the access log)."""
    return Written(referral_view(row), child_records=[row["id"]], status_code=status_code,
                   headers={"ETag": etag(row["version"]), **(headers or {})})
