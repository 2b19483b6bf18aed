"""admission.accepted makes exactly one pending placement, however often it is delivered."""
from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import func, select

from libs.common.events.catalogue import AdmissionAccepted
from libs.common.events.envelope import EventEnvelope
from services.assessment.handlers import placement_id_for
from services.assessment.tables import placements

pytestmark = pytest.mark.parametrize("system_overrides", ["inprocess-sqlite"], indirect=True)


async def test_a_redelivered_or_replayed_admission_makes_one_placement_in_the_councils_tenancy(sut):
    runtime = sut.runtime("assessment")
    payload = AdmissionAccepted(admission_id=uuid.uuid4(), referral_id=uuid.uuid4(), home_id=uuid.uuid4(),
                                bed_id=uuid.uuid4(), planned_start_date=date.today())
    first = EventEnvelope(type="admission.accepted", producer="matching", subject_id=str(payload.referral_id),
                          la_code="E10000018", payload=payload.model_dump(mode="json"))
    replayed = first.model_copy(update={"id": uuid.uuid4()})  # the same fact under another event id
    for envelope in (first, first, replayed):
        await runtime.consumer.handle(envelope)
    async with runtime.db.session() as session:
        rows = (await session.execute(select(placements.c.id, placements.c.la_code, placements.c.status).where(
            placements.c.admission_id == str(payload.admission_id)))).all()
        total = (await session.execute(select(func.count()).select_from(placements))).scalar_one()
    assert [(r.id, r.la_code, r.status) for r in rows] == [
        (placement_id_for(payload.admission_id), "E10000018", "pending")]
    assert total == 1
    seen = await sut.client.get(f"/v1/placements/{rows[0].id}", headers=sut.council("E10000018"))
    assert seen.status_code == 200 and seen.json()["phase"] == "pending"
    assert (await sut.client.get(f"/v1/placements/{rows[0].id}", headers=sut.council("E06000016"))).status_code == 404
