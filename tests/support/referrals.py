"""A council's referral as the tests send it, and reading what a service emitted."""
from __future__ import annotations

import json
import uuid

from sqlalchemy import select

LEICS, LEICESTER = "E10000018", "E06000016"

REFERRAL = {
    "child_ref": "LCC-2026-00417", "date_of_birth": "2012-03-14", "sex": "female",
    "legal_status": "C2", "home_postcode": "le4 6ab", "urgency": "crisis", "wanted_start_date": "2026-11-23",
    "needs": [{"code": "mental_health", "severity": "high"}],
    "risks": [{"code": "missing_episodes", "severity": "medium"}],
    "social_worker": {"name": "Sam Patel", "email": "sam.patel@leics.gov.uk", "phone": "0116 305 0000"},
}


def idempotent(headers: dict) -> dict:
    """A council's headers plus a fresh Idempotency-Key (POST /v1/referrals requires one)."""
    return {**headers, "Idempotency-Key": str(uuid.uuid4())}


async def create_referral(sut, la=LEICS, key=None, **changes):
    r = await sut.client.post("/v1/referrals", json={**REFERRAL, **changes},
                              headers={**sut.council(la), "Idempotency-Key": key or str(uuid.uuid4())})
    assert r.status_code == 201, r.text
    return r.json()


async def events_of(sut, service="referral") -> list[dict]:
    rt = sut.runtime(service)
    async with rt.db.session() as session:
        rows = (await session.execute(select(rt.tables[0].c.envelope).order_by(rt.tables[0].c.seq))).scalars().all()
    return [json.loads(r) for r in rows]


async def emit_from_matching(sut, payload, referral_id: str, la=LEICS):
    """matching's side of the conversation: its events, through its own outbox and the real transport."""
    async with sut.runtime("matching").uow() as uow:
        await uow.emit(payload, subject_id=referral_id, la_code=la)
        await uow.commit()
