"""POST /v1/admissions: the provider's decision, with its veto; reading decisions. Hub only.

The rules (the racing accept, the hard limits, the stored answer) are service.decide's; this module parses,
authorises, runs it through libs.common.http.write (Idempotency-Key: the same key and request answer the
first response again) and shapes the answer.
"""
from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Request, Response

from libs.common.audit import touched
from libs.common.auth import Authorize, Principal
from libs.common.http import IdempotencyKey, Written, write

from .. import service
from ..domain.impact_risk import canonical
from ..schemas import AdmissionCreate, AdmissionOut, AdmissionPage

router = APIRouter(prefix="/v1/admissions", tags=["admissions"])

Decide = Annotated[Principal, Authorize("admissions:write", roles=("hub",), councils=False)]
ReadDecisions = Annotated[Principal, Authorize("admissions:read", roles=("hub",), councils=False)]


def _out(row: dict) -> AdmissionOut:
    return AdmissionOut.model_validate({**{k: row.get(k) for k in AdmissionOut.model_fields},
                                        "assessment_id": row["impact_risk_assessment_id"]})


def _decision(body: AdmissionCreate) -> service.Decision:
    return service.Decision(
        referral_id=str(body.referral_id), decision=body.decision, home_id=str(body.home_id) if body.home_id else None,
        bed_id=str(body.bed_id) if body.bed_id else None, planned_start_date=body.planned_start_date,
        reason_code=body.reason_code, reason_text=body.reason_text, fee_basis_hint=body.fee_basis_hint,
        impact_risk_assessment_id=body.impact_risk_assessment_id, team_id=str(body.team_id) if body.team_id else None,
        outreach_basis=body.outreach_basis, planned_weeks=body.planned_weeks)


@router.post("", status_code=201, response_model=AdmissionOut, summary="Accept or decline a referral")
async def decide(body: AdmissionCreate, request: Request, principal: Decide, idempotency_key: IdempotencyKey = None):
    """An accept reserves the home's Pathway Bed (of two accepts racing for it exactly one wins, the other is
    409); a hard limit other than the bed refuses it (409, decline instead); a decline carries a coded reason.
    An outreach referral is accepted for a team (`team_id`, with `outreach_basis` and `planned_weeks`: a fixed
    fee is six weeks unless given), taking a place on its caseload (a team at its limit, suspended or out of
    reach is 409 naming the decline reason to use), and emits outreach.accepted.
    `assessment_id` is the deprecated name of `impact_risk_assessment_id` and is still accepted."""
    async def op(uow) -> Written:
        row = await service.decide(uow, request.app.state.homes_snapshot, principal, _decision(body), service.utcnow())
        return Written(_out(row), child_records=[row["referral_id"]], status_code=201,
                       headers={"Location": f"/v1/admissions/{row['id']}"})
    return await write(request, principal, op, key=idempotency_key, body=body)


@router.get("/{admission_id}", response_model=AdmissionOut, summary="Read a decision")
async def get_admission(admission_id: uuid.UUID, request: Request, principal: ReadDecisions) -> AdmissionOut:
    async with request.app.state.runtime.db.reader() as session:
        row = await service.admission(session, str(admission_id))
    touched(request, row["referral_id"])
    return _out(row)


async def _shown(request: Request, admission_id: uuid.UUID) -> Response:
    async with request.app.state.runtime.db.session() as session:
        row = await service.admission(session, str(admission_id))
    touched(request, row["referral_id"])
    return Response(content=canonical(row["impact_risk_assessment"]), media_type="application/json")


@router.get("/{admission_id}/impact-risk-assessment",
            summary="The impact risk assessment shown when the decision was made")
async def get_admission_impact_risk_assessment(admission_id: uuid.UUID, request: Request, principal: ReadDecisions):
    return await _shown(request, admission_id)


@router.get("/{admission_id}/assessment", deprecated=True,
            summary="Deprecated: GET /v1/admissions/{admission_id}/impact-risk-assessment")
async def get_admission_assessment(admission_id: uuid.UUID, request: Request, principal: ReadDecisions):
    return await _shown(request, admission_id)


@router.get("", response_model=AdmissionPage, summary="Decisions, newest first")
async def list_admissions(request: Request, principal: ReadDecisions,
                          referral_id: uuid.UUID | None = None) -> AdmissionPage:
    async with request.app.state.runtime.db.reader() as session:
        rows = await service.admissions(session, str(referral_id) if referral_id else None)
    touched(request, *(r["referral_id"] for r in rows))
    return AdmissionPage(items=[_out(r) for r in rows], next_cursor=None)
