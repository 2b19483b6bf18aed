"""Demo data for `make run`: two councils and their API clients, and the hub's own clients.

The credentials are fixed so that the README and the start-up banner can show them; they are for
the embedded demo only.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from libs.common.db import Database
from services.gateway.clients import create_client
from services.matching.seed import BLUEPRINT_HOME_ID
from services.gateway.tables import api_clients

from .system import settings_for

DEMO_COUNCILS = {
    "E10000018": "Leicestershire County Council",
    "E06000016": "Leicester City Council",
}
DEMO_CLIENTS = [
    dict(client_id="demo-leicestershire", client_secret="demo-leicestershire-secret",
         name="Leicestershire case management (demo)", la_code="E10000018"),
    dict(client_id="demo-leicester", client_secret="demo-leicester-secret",
         name="Leicester case management (demo)", la_code="E06000016"),
    dict(client_id="demo-hub", client_secret="demo-hub-secret", name="Hub referrals coordinator (demo)",
         role="hub", scopes=["hub:all"]),
    dict(client_id="demo-provider", client_secret="demo-provider-secret", name="Provider admin, onboarding (demo)",
         role="provider_admin", scopes=["homes:write", "homes:read"]),
    # the blueprint home's registered manager: its children only (placements, plans, deadlines)
    dict(client_id="demo-home-manager", client_secret="demo-home-manager-secret",
         name="Registered manager, blueprint home (demo)", role="home_manager",
         scopes=["placements:read", "placements:write", "plans:read", "homes:read", "outcomes:read"],
         homes=[BLUEPRINT_HOME_ID]),
    # the hub's finance officer: contracts, fee periods, invoices, viability (the dashboard's finance pages)
    dict(client_id="demo-finance", client_secret="demo-finance-secret", name="Hub finance officer (demo)",
         role="finance", scopes=["billing:write", "invoices:read", "homes:read"]),
]


def _born(years_old: int, days_after_birthday: int = 40) -> str:
    today = date.today()
    try:
        birthday = today.replace(year=today.year - years_old)
    except ValueError:  # 29 February
        birthday = today.replace(year=today.year - years_old, day=28)
    return (birthday - timedelta(days=days_after_birthday)).isoformat()


def demo_referrals() -> list[tuple[str, str, dict]]:
    """(LA code, Idempotency-Key, body): a few referrals so the hub's queue is not empty. Ages are
    relative to today so they stay inside the homes' range."""
    soon = (date.today() + timedelta(days=1)).isoformat()
    later = (date.today() + timedelta(days=21)).isoformat()
    worker = {"name": "Demo Social Worker", "email": "social.worker@example.gov.uk", "phone": "0116 000 0000"}
    return [
        ("E10000018", "demo-referral-1", dict(
            child_ref="LCC-DEMO-0001", date_of_birth=_born(14), sex="female", legal_status="C2",
            home_postcode="LE4 6AB", urgency="crisis", wanted_start_date=soon, social_worker=worker,
            needs=[{"code": "mental_health", "severity": "high"}, {"code": "camhs_involvement", "severity": "medium"}],
            risks=[{"code": "missing_episodes", "severity": "high"}, {"code": "criminal_exploitation_risk", "severity": "high"}])),
        ("E10000018", "demo-referral-2", dict(
            child_ref="LCC-DEMO-0002", date_of_birth=_born(11), sex="male", legal_status="V2",
            home_postcode="LE65 1AA", urgency="planned", wanted_start_date=later, social_worker=worker,
            needs=[{"code": "neurodiversity", "severity": "medium"}, {"code": "ehcp", "severity": "medium"}],
            risks=[{"code": "violence_to_staff", "severity": "low"}])),
        ("E06000016", "demo-referral-1", dict(
            child_ref="LC-DEMO-17", date_of_birth=_born(15), sex="male", legal_status="C1",
            home_postcode="LE1 5WW", urgency="urgent", wanted_start_date=soon, social_worker=worker,
            needs=[{"code": "trauma", "severity": "high"}],
            risks=[{"code": "substance_misuse", "severity": "medium"}, {"code": "youth_justice", "severity": "medium"}])),
    ]


async def seed_referrals(**overrides) -> list[str]:
    """Demo referrals through the referral service's own intake (its outbox carries them to matching
    when the system starts). A council's referral with the same child_ref is kept, so a second seed changes
    nothing."""
    from services.referral.app import create_app
    from services.referral.schemas import ReferralCreate
    from services.referral.service import refer_unless_known

    app = create_app(settings_for("referral", **overrides), manage_runtime=False)
    runtime = app.state.runtime
    created = []
    try:
        for la_code, _key, body in demo_referrals():
            async with runtime.uow() as uow:  # a referral the council already has (same child_ref) stays
                made = await refer_unless_known(uow, app.state.referral_settings, la_code=la_code,
                                                body=ReferralCreate(**body))
                await uow.commit()
            if made is not None:
                created.append(made["id"])
    finally:
        await runtime.db.dispose()
    return created


async def seed_demo(**overrides) -> list[dict]:
    db = Database(settings_for("gateway", **overrides))
    created = []
    try:
        async with db.session() as session, session.begin():
            for client in DEMO_CLIENTS:
                exists = (await session.execute(select(api_clients.c.client_id)
                                                .where(api_clients.c.client_id == client["client_id"]))).first()
                if not exists:
                    created.append(await create_client(session, **client))
    finally:
        await db.dispose()
    await seed_matching(**overrides)
    await seed_referrals(**overrides)
    return created


async def seed_matching(**overrides) -> bool:
    """The 3-bed blueprint home (live, one Pathway Bed, checklist complete); its home.onboarded event
    waits in matching's outbox until the service's relay runs."""
    from services.matching.seed import seed_blueprint_home
    from services.matching.tables import metadata

    db = Database(settings_for("matching", **overrides))
    try:
        return await seed_blueprint_home(db, metadata.tables["outbox"])
    finally:
        await db.dispose()


async def seed_blueprint(**overrides) -> dict:
    """The demo data, then the 3-bed blueprint scenario (children A-D) and the demo region (itp/demo_region.py:
    eight more spoke homes, children at every point of the pathway, the crisis queue, both councils' contracts
    and closed fee periods) driven through the real APIs of the whole system run in this process. A second run
    finds the blueprint children and the region and adds nothing."""
    import httpx

    from libs.common.auth import KeyStore, mint_token
    from services.gateway.domain.principals import COUNCIL_SCOPES

    from .blueprint import Blueprint, already_seeded
    from .demo_region import LEICESTER, Region
    from .system import build_system

    await seed_demo(**overrides)
    system = build_system(**overrides)
    keys = KeyStore(settings_for("gateway", **overrides).resolved_keys_file)
    hub = {"Authorization": "Bearer " + mint_token(keys, client_id="seed-blueprint", role="hub")}
    council = {"Authorization": "Bearer " + mint_token(keys, client_id="seed-blueprint-council", la_code="E10000018",
                                                       scopes=COUNCIL_SCOPES)}
    city = {"Authorization": "Bearer " + mint_token(keys, client_id="seed-region-city", la_code=LEICESTER,
                                                    scopes=COUNCIL_SCOPES)}
    gateway = system.gateway
    async with gateway.router.lifespan_context(gateway):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url="http://seed") as client:
            placed = {} if await already_seeded(client, hub) else await Blueprint(client, hub, council).run()
            await Region(client, hub, {"E10000018": council, LEICESTER: city}).run()
        await system.settle()  # the region's last events (its fee periods' invoices) handled before it stops
        return placed
