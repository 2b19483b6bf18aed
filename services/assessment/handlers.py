"""Assessment's consumer: an accepted admission creates the pending placement. Idempotent twice over:
the inbox drops a redelivered event, and the placement is unique per admission. The consumer opens the
unit of work and commits it; the operation only writes."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

from libs.common.events.catalogue import AdmissionAccepted, PlacementFeeApplied
from libs.common.events.envelope import EventEnvelope
from libs.common.events.outbox import UnitOfWork

from . import service

_NS = uuid.UUID("0f3c2b7a-9d84-4c1e-b6a5-2e7d9c1f4a10")


def placement_id_for(admission_id) -> str:
    """The placement of an admission has a stable id, so a replayed event can never make a second one."""
    return str(uuid.uuid5(_NS, str(admission_id)))


async def on_admission_accepted(uow: UnitOfWork, event: EventEnvelope, payload: AdmissionAccepted) -> None:
    if not event.la_code:
        raise ValueError("admission.accepted without the council's la_code in its envelope")
    admission_id = str(payload.admission_id)
    await service.open_pending_placement(uow, placement_id=placement_id_for(admission_id), admission_id=admission_id,
                                         la_code=event.la_code, admission=payload, now=datetime.now(timezone.utc))


async def on_fee_applied(uow: UnitOfWork, event: EventEnvelope, payload: PlacementFeeApplied) -> None:
    """billing's weekly fee for the child, kept for the placement's reads."""
    await service.weekly_fee_applied(uow, payload, datetime.now(timezone.utc))


HANDLERS = {"admission.accepted": on_admission_accepted, "placement.fee_applied": on_fee_applied}
