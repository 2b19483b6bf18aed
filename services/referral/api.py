from __future__ import annotations

import uuid
from datetime import datetime, timezone

from fastapi import APIRouter, Request, Response
from sqlalchemy import select

from libs.common.errors import NotFound
from libs.common.events.catalogue import ReferralReceived
from libs.common.web import runtime_of

from .schemas import Referral, ReferralCreate
from .tables import referrals

router = APIRouter(prefix="/v1/referrals", tags=["referrals"])


@router.post("", status_code=201, response_model=Referral, summary="Refer a child")
async def create_referral(body: ReferralCreate, request: Request, response: Response) -> Referral:
    """Stores the referral and emits referral.received in the same transaction (the outbox)."""
    runtime = runtime_of(request)
    now = datetime.now(timezone.utc)
    referral_id = uuid.uuid4()
    row = dict(id=str(referral_id), la_code=body.la_code, child_ref=body.child_ref, date_of_birth=body.date_of_birth,
               sex=body.sex, legal_status=body.legal_status, home_outward_code=body.home_postcode,
               needs=[n.model_dump() for n in body.needs], risks=[r.model_dump() for r in body.risks],
               urgency=body.urgency, wanted_start_date=body.wanted_start_date, status="received", version=1,
               received_at=now, updated_at=now)
    async with runtime.uow() as uow:
        await uow.session.execute(referrals.insert().values(**row))
        await uow.emit(ReferralReceived(
            referral_id=referral_id, child_ref=body.child_ref, date_of_birth=body.date_of_birth, sex=body.sex,
            legal_status=body.legal_status, home_outward_code=body.home_postcode, needs=body.needs, risks=body.risks,
            urgency=body.urgency, wanted_start_date=body.wanted_start_date, received_at=now),
            subject_id=str(referral_id), la_code=body.la_code)
        await uow.commit()
    response.headers["Location"] = f"/v1/referrals/{referral_id}"
    return Referral.model_validate(row)


@router.get("/{referral_id}", response_model=Referral, summary="Read a referral")
async def get_referral(referral_id: uuid.UUID, request: Request) -> Referral:
    runtime = runtime_of(request)
    async with runtime.db.session() as session:
        row = (await session.execute(select(referrals).where(referrals.c.id == str(referral_id)))).mappings().first()
    if row is None:
        raise NotFound("referral")
    return Referral.model_validate(dict(row))
