"""Demo data for matching: the 3-bed blueprint home of the domain (a live spoke home in the East
Midlands, three beds, one of them the Pathway Bed, onboarding checklist complete). Idempotent: a
second run finds the URN and adds nothing."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timezone

from sqlalchemy import select

from libs.common.events.catalogue import HomeOnboarded
from libs.common.events.outbox import UnitOfWork

from .domain.beds import ONBOARDING_CHECKLIST
from .repository import bump, refresh_pathway_bed
from .tables import beds, checklist_items, homes

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
    now = datetime.now(timezone.utc)
    async with UnitOfWork(db, outbox_table, "matching") as uow:
        if (await uow.session.execute(select(homes.c.id).where(homes.c.urn == BLUEPRINT_HOME["urn"]))).first():
            return False
        home_id = BLUEPRINT_HOME_ID
        await uow.session.execute(homes.insert().values(id=home_id, status="live", version=1, went_live_at=now,
                                                        created_at=now, updated_at=now, **BLUEPRINT_HOME))
        for item in ONBOARDING_CHECKLIST:
            await uow.session.execute(checklist_items.insert().values(
                home_id=home_id, item=item, done=True, confirmed_by="demo-seed", confirmed_at=now))
        for n in (1, 2, 3):
            await uow.session.execute(beds.insert().values(
                id=str(uuid.uuid5(_NS, f"{BLUEPRINT_HOME['urn']}/bed/{n}")), home_id=home_id, label=f"Bed {n}",
                state="vacant", is_pathway=False, updated_at=now))
        await refresh_pathway_bed(uow.session, home_id)
        await bump(uow.session)
        await uow.emit(HomeOnboarded(home_id=uuid.UUID(home_id), urn=BLUEPRINT_HOME["urn"], postcode_district="LE4",
                                     registered_places=3, age_min=10, age_max=17), subject_id=home_id, la_code=None)
        await uow.commit()
        return True
