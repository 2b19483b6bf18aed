"""Demo data for matching: the 3-bed blueprint home of the domain (a live spoke home in the East
Midlands, three beds, one of them the Pathway Bed, onboarding checklist complete). Idempotent: a
second run finds the URN and adds nothing."""
from __future__ import annotations

import uuid
from datetime import date

from libs.common.events.outbox import UnitOfWork

from . import service
from .repository import utcnow

_NS = uuid.UUID("6a1f2d8e-3b1c-4c55-9d0e-7f2a1b3c4d5e")
BLUEPRINT_HOME = dict(
    urn="SC900001", name="Beaumont House (demo)", address="1 Demo Lane, Beaumont Leys, Leicester",
    postcode="LE4 1AA", postcode_district="LE4", registered_places=3, age_min=10, age_max=17,
    sexes=["female", "male"], categories=["emotional_behavioural_difficulties", "mental_disorders"],
    specialisms=["child_exploitation", "complex_mental_health"], registered_manager="Demo Registered Manager",
    ofsted_rating="good", inspection_date=date(2026, 5, 14), registration_status="registered", phase_1_limit=1)
BLUEPRINT_HOME_ID = str(uuid.uuid5(_NS, BLUEPRINT_HOME["urn"]))


async def seed_blueprint_home(db, outbox_table) -> bool:
    """True when the home was created now."""
    bed_ids = [str(uuid.uuid5(_NS, f"{BLUEPRINT_HOME['urn']}/bed/{n}")) for n in (1, 2, 3)]
    async with UnitOfWork(db, outbox_table, "matching") as uow:
        created = await service.seed_live_home(uow, {"id": BLUEPRINT_HOME_ID, **BLUEPRINT_HOME}, bed_ids, utcnow())
        if created:
            await uow.commit()
        return created
