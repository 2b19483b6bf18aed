from __future__ import annotations

import uuid

from typing import Annotated

from fastapi import APIRouter, Request

from libs.common.auth import Authorize, Principal
from sqlalchemy import select

from libs.common.errors import NotFound
from libs.common.web import runtime_of

from .schemas import MatchRanking
from .tables import referrals

router = APIRouter(tags=["matching"])


@router.get("/v1/referrals/{referral_id}/matches", response_model=MatchRanking,
            summary="The ranked homes for a referral")
async def get_matches(referral_id: uuid.UUID, request: Request,
                      principal: Annotated[Principal, Authorize("matches:read", councils=False)]) -> MatchRanking:
    """For the hub: the ranking names homes and their current residents' risks. 404 until matching
    has received the referral's event."""
    async with runtime_of(request).db.session() as session:
        row = (await session.execute(select(referrals).where(referrals.c.id == str(referral_id)))).mappings().first()
    if row is None:
        raise NotFound("referral")
    return MatchRanking(referral_id=row["id"], referral_status=row["status"], received_at=row["received_at"], options=[])
