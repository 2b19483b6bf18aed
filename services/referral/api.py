from __future__ import annotations

import uuid
from datetime import datetime, timezone

from typing import Annotated

from fastapi import APIRouter, Request, Response
from sqlalchemy import select

from libs.common.audit import touched
from libs.common.auth import Authorize, Principal
from libs.common.errors import NotFound, ProblemError
from libs.common.tenancy import readable
from libs.common.events.catalogue import ReferralReceived
from libs.common.web import runtime_of

from .schemas import Referral, ReferralCreate
from .tables import referrals

router = APIRouter(prefix="/v1/referrals", tags=["referrals"])


@router.post("", status_code=201, response_model=Referral, summary="Refer a child")
async def create_referral(body: ReferralCreate, request: Request, response: Response,
                          principal: Annotated[Principal, Authorize("referrals:write")]) -> Referral:
    """Stores the referral and emits referral.received in the same transaction (the outbox).
    The referring council is the caller's own: it comes from the token, never from the body."""
    if not principal.is_council:
        raise ProblemError(403, "Forbidden", "Referrals are made by a council's client.")
    runtime = runtime_of(request)
    now = datetime.now(timezone.utc)
    referral_id = uuid.uuid4()
    row = dict(id=str(referral_id), la_code=principal.la_code, child_ref=body.child_ref, date_of_birth=body.date_of_birth,
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
            subject_id=str(referral_id), la_code=principal.la_code)
        await uow.commit()
    touched(request, referral_id)
    response.headers["Location"] = f"/v1/referrals/{referral_id}"
    return Referral.model_validate(row)


@router.get("/{referral_id}", response_model=Referral, summary="Read a referral")
async def get_referral(referral_id: uuid.UUID, request: Request,
                       principal: Annotated[Principal, Authorize("referrals:read")]) -> Referral:
    runtime = runtime_of(request)
    stmt = readable(select(referrals).where(referrals.c.id == str(referral_id)), principal, referrals.c.la_code)
    async with runtime.db.session() as session:
        row = (await session.execute(stmt)).mappings().first()
    if row is None:
        raise NotFound("referral")
    touched(request, referral_id)
    return Referral.model_validate(dict(row))
