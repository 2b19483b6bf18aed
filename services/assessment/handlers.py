"""Assessment's consumer: an accepted admission creates the pending placement. Idempotent twice over:
the inbox drops a redelivered event, and the placement is unique per admission. The consumer opens the
unit of work and commits it; the operation only writes."""
from __future__ import annotations

from libs.common.restrictions import consumers as restriction_consumers

from datetime import datetime, timezone

from libs.common.events.catalogue import (
    AdmissionAccepted,
    OutreachAccepted,
    PlacementFeeApplied,
    ReferralReceived,
    ReferralUpdated,
)
from libs.common.events.envelope import EventEnvelope
from libs.common.events.outbox import UnitOfWork
from libs.common.ids import (
    placement_id_for,  # one rule, shared with the referral service's links
)

from . import service
from .tables import restricted_children

__all__ = ["HANDLERS", "placement_id_for"]


async def on_admission_accepted(uow: UnitOfWork, event: EventEnvelope, payload: AdmissionAccepted) -> None:
    la_code = event.council()
    admission_id = str(payload.admission_id)
    await service.open_pending_placement(uow, placement_id=placement_id_for(admission_id), admission_id=admission_id,
                                         la_code=la_code, admission=payload, now=datetime.now(timezone.utc))


async def on_fee_applied(uow: UnitOfWork, event: EventEnvelope, payload: PlacementFeeApplied) -> None:
    """billing's weekly fee for the child, kept for the placement's reads."""
    await service.weekly_fee_applied(uow, payload, datetime.now(timezone.utc))


async def on_referral(uow: UnitOfWork, event: EventEnvelope, payload: ReferralReceived | ReferralUpdated) -> None:
    """The child's coded facts for the SSDA903 episodes (reference, date of birth, sex, legal status, category
    of need, home outward code): never a name, never free text."""
    await service.child_facts(uow, str(payload.referral_id), event.council(), payload.model_dump(),
                              datetime.now(timezone.utc))


async def on_outreach_accepted(uow: UnitOfWork, event: EventEnvelope, payload: OutreachAccepted) -> None:
    """The hub accepted an outreach referral: its intervention (one per decision, whatever the redelivery)."""
    await service.open_intervention(uow, la_code=event.council(), accepted=payload, now=datetime.now(timezone.utc))


HANDLERS = {"admission.accepted": on_admission_accepted, "outreach.accepted": on_outreach_accepted, "placement.fee_applied": on_fee_applied,
            "referral.received": on_referral, "referral.updated": on_referral}

# referral.restricted / referral.restriction_lifted kept in restricted_children (libs.common.restrictions)
HANDLERS.update(restriction_consumers(restricted_children))
