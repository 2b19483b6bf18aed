"""POST /v1/admissions: the provider's decision, with its veto. Hub only.

An accept reserves the home's Pathway Bed with one conditional UPDATE (state vacant and still the
Pathway Bed), so of two accepts racing for the same bed exactly one wins and the other answers 409.
The referral moves from awaiting_decision with another conditional UPDATE, so one referral is never
accepted twice. The assessment shown at the time is stored with the decision. Idempotency-Key: the
same key with the same body gives the same answer.
"""
from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime, time, timedelta, timezone
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from sqlalchemy import and_, select, update
from sqlalchemy.exc import IntegrityError

from libs.common.audit import touched
from libs.common.auth import Authorize, Principal
from libs.common.errors import Conflict, NotFound, ProblemError
from libs.common.events.catalogue import AdmissionAccepted, AdmissionDeclined
from libs.common.web import runtime_of

from .domain.limits import failed_limit, required_categories
from .matches import answer, assess_referral, canonical, record, sweep
from .repository import bump, utcnow
from .schemas import AdmissionCreate, AdmissionOut
from .settings import MatchingSettings
from .tables import admissions, beds, match_assessments, referrals

router = APIRouter(prefix="/v1/admissions", tags=["admissions"])

Decide = Annotated[Principal, Authorize("admissions:write", roles=("hub",), councils=False)]
ReadDecisions = Annotated[Principal, Authorize("admissions:read", roles=("hub",), councils=False)]


def _out(row) -> AdmissionOut:
    return AdmissionOut.model_validate({k: row[k] for k in AdmissionOut.model_fields})


async def _by_key(request: Request, key: str):
    async with runtime_of(request).db.session() as session:
        return (await session.execute(select(admissions).where(admissions.c.idempotency_key == key))).mappings().first()


def _replay(row, request_hash: str) -> AdmissionOut:
    if row["request_hash"] != request_hash:
        raise ProblemError(422, "Idempotency-Key reused", "This Idempotency-Key was used with a different body.",
                           errors=[{"field": "header.idempotency-key", "rule": "idempotency_key_reused",
                                    "message": "same key, different body"}])
    return _out(row)


@router.post("", status_code=201, response_model=AdmissionOut, summary="Accept or decline a referral")
async def decide(body: AdmissionCreate, request: Request, response: Response, principal: Decide,
                 idempotency_key: Annotated[str | None, Header(max_length=200)] = None) -> AdmissionOut:
    request_hash = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
    if idempotency_key:
        prior = await _by_key(request, idempotency_key)
        if prior is not None:
            touched(request, prior["referral_id"])
            return _replay(prior, request_hash)
    await sweep(request)
    runtime = runtime_of(request)
    now = utcnow()
    today = now.date()
    if body.decision == "accept" and body.planned_start_date < today:
        raise ProblemError(422, "Request validation failed", "planned_start_date is in the past",
                           errors=[{"field": "body.planned_start_date", "rule": "not_in_the_past",
                                    "message": "the planned start cannot be before today"}])
    referral_id = str(body.referral_id)
    async with runtime.db.session() as session:
        row = (await session.execute(select(referrals).where(referrals.c.id == referral_id))).mappings().first()
        if row is None:
            raise NotFound("referral")
        referral = dict(row)
        assessment = await assess_referral(request, session, referral, today)
        shown = None
        if body.assessment_id:
            stored = (await session.execute(select(match_assessments.c.body).where(and_(
                match_assessments.c.id == body.assessment_id, match_assessments.c.referral_id == referral_id)))).first()
            if stored is None:
                raise ProblemError(422, "Request validation failed", "No such assessment for this referral.",
                                   errors=[{"field": "body.assessment_id", "rule": "unknown_assessment",
                                            "message": "not an assessment of this referral"}])
            shown = json.loads(stored.body)
    touched(request, referral_id)
    if referral["status"] != "awaiting_decision":
        raise Conflict(f"The referral is {referral['status']}; only a referral awaiting decision can be decided.",
                       referral_status=referral["status"], allowed=[])
    if shown is None:
        shown, _ = answer(referral, assessment, today, MatchingSettings().default_options)
        await record(request, referral, assessment, shown)

    admission_id = str(uuid.uuid4())
    values = dict(id=admission_id, referral_id=referral_id, la_code=referral["la_code"],
                  assessment_id=shown["assessment_id"], assessment=shown, idempotency_key=idempotency_key,
                  request_hash=request_hash, decided_by=principal.client_id, decided_at=now)
    try:
        async with runtime.uow() as uow:
            if body.decision == "accept":
                home_id = str(body.home_id)
                home = next((h for h in await _homes(request, uow.session, today) if h.id == home_id), None)
                if home is None:
                    raise NotFound("home")
                limit = failed_limit(assessment.child, home, assessment.rules, required_categories(assessment.child, assessment.rules))
                if limit is not None and limit != "no_free_pathway_bed":
                    raise Conflict(f"The home cannot take this child: {limit}.", hard_limit=limit, allowed=["decline"])
                bed_q = and_(beds.c.home_id == home_id, beds.c.state == "vacant", beds.c.is_pathway)
                if body.bed_id:
                    bed_q = and_(bed_q, beds.c.id == str(body.bed_id))
                bed = (await uow.session.execute(select(beds.c.id).where(bed_q))).first()
                reserved_until = datetime.combine(body.planned_start_date, time(0), tzinfo=timezone.utc) + timedelta(
                    hours=MatchingSettings().reservation_grace_hours)
                won = bed is not None and (await uow.session.execute(
                    update(beds).where(and_(bed_q, beds.c.id == bed.id)).values(
                        state="reserved", reserved_for=referral_id, reserved_until=reserved_until,
                        admission_id=admission_id, updated_at=now))).rowcount == 1
                if not won:
                    raise Conflict("The home's Pathway Bed is not free (reserved, occupied or none).",
                                   allowed=["decline", "accept into another home"])
                await _move_referral(uow.session, referral_id, "accepted", now)
                fee_basis = body.fee_basis_hint or "enhanced_assessment"
                await uow.session.execute(admissions.insert().values(
                    decision="accepted", status="reserved", home_id=home_id, bed_id=bed.id,
                    planned_start_date=body.planned_start_date, reserved_until=reserved_until,
                    fee_basis_hint=fee_basis, **values))
                await bump(uow.session)
                await uow.emit(AdmissionAccepted(admission_id=uuid.UUID(admission_id), referral_id=body.referral_id,
                                                 home_id=body.home_id, bed_id=uuid.UUID(bed.id),
                                                 planned_start_date=body.planned_start_date, fee_basis_hint=fee_basis),
                               subject_id=referral_id, la_code=referral["la_code"])
            else:
                await _move_referral(uow.session, referral_id, "declined", now)
                await uow.session.execute(admissions.insert().values(
                    decision="declined", status="declined", home_id=str(body.home_id) if body.home_id else None,
                    reason_code=body.reason_code, reason_text=body.reason_text, **values))
                await uow.emit(AdmissionDeclined(admission_id=uuid.UUID(admission_id), referral_id=body.referral_id,
                                                 reason_code=body.reason_code, reason_text=body.reason_text),
                               subject_id=referral_id, la_code=referral["la_code"])
            await uow.commit()
    except IntegrityError:
        # the same Idempotency-Key committed by a concurrent request: answer as it did
        if idempotency_key and (prior := await _by_key(request, idempotency_key)) is not None:
            return _replay(prior, request_hash)
        raise Conflict("The decision conflicted with a concurrent change; read the referral again.") from None
    response.headers["Location"] = f"/v1/admissions/{admission_id}"
    return await _get(request, admission_id)


async def _homes(request: Request, session, as_of):
    from .matches import snapshot_of
    return await snapshot_of(request).homes(session, as_of)


async def _move_referral(session, referral_id: str, status: str, now) -> None:
    moved = await session.execute(update(referrals).where(and_(referrals.c.id == referral_id,
                                                               referrals.c.status == "awaiting_decision"))
                                  .values(status=status, updated_at=now))
    if moved.rowcount != 1:
        raise Conflict("The referral was decided by a concurrent request.", allowed=[])


async def _get(request: Request, admission_id: str) -> AdmissionOut:
    async with runtime_of(request).db.session() as session:
        row = (await session.execute(select(admissions).where(admissions.c.id == admission_id))).mappings().first()
    if row is None:
        raise NotFound("admission")
    touched(request, row["referral_id"])
    return _out(row)


@router.get("/{admission_id}", response_model=AdmissionOut, summary="Read a decision")
async def get_admission(admission_id: uuid.UUID, request: Request, principal: ReadDecisions) -> AdmissionOut:
    return await _get(request, str(admission_id))


@router.get("/{admission_id}/assessment", summary="The assessment shown when the decision was made")
async def get_admission_assessment(admission_id: uuid.UUID, request: Request, principal: ReadDecisions):
    async with runtime_of(request).db.session() as session:
        row = (await session.execute(select(admissions.c.referral_id, admissions.c.assessment)
                                     .where(admissions.c.id == str(admission_id)))).first()
    if row is None:
        raise NotFound("admission")
    touched(request, row.referral_id)
    return Response(content=canonical(row.assessment), media_type="application/json")


@router.get("", response_model=list[AdmissionOut], summary="Decisions, newest first")
async def list_admissions(request: Request, principal: ReadDecisions, referral_id: uuid.UUID | None = None) -> list[AdmissionOut]:
    q = select(admissions).order_by(admissions.c.decided_at.desc(), admissions.c.id)
    if referral_id:
        q = q.where(admissions.c.referral_id == str(referral_id))
    async with runtime_of(request).db.session() as session:
        rows = (await session.execute(q.limit(200))).mappings().all()
    touched(request, *(r["referral_id"] for r in rows))
    return [_out(r) for r in rows]
