"""Ids one service derives and another must agree on. Pure: no web or database imports.

The placement of an admission: assessment makes the pending placement when it hears admission.accepted,
with an id derived from the admission id, so a replayed event can never make a second one; the referral
service derives the same id from the same event to link an accepted referral to its placement (services
cannot read each other's tables). One rule, here, so the two never drift.
"""
from __future__ import annotations

import uuid

_PLACEMENT_NS = uuid.UUID("0f3c2b7a-9d84-4c1e-b6a5-2e7d9c1f4a10")


def placement_id_for(admission_id) -> str:
    """The stable id of the placement an accepted admission makes (uuid5 of the admission id)."""
    return str(uuid.uuid5(_PLACEMENT_NS, str(admission_id)))


_INTERVENTION_NS = uuid.UUID("6a1e0c52-3f0b-4b8e-9d47-5c2a7e81b3d9")


def intervention_id_for(admission_id) -> str:
    """The stable id of the outreach intervention an accepted outreach referral makes (uuid5 of the decision
    id, outreach.accepted's admission_id): assessment makes it, billing and outcomes derive the same id."""
    return str(uuid.uuid5(_INTERVENTION_NS, str(admission_id)))
