"""Spoke homes: onboarding, the checklist, going live, suspension, beds and residents.

provider_admin (and the hub) onboard and change homes; a home_manager reads only their own homes;
councils do not see homes or their residents.
"""
from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from sqlalchemy import and_, select, update

from libs.common.audit import touched
from libs.common.auth import Authorize, Principal
from libs.common.errors import Conflict, NotFound, ProblemError
from libs.common.events.catalogue import HomeOnboarded
from libs.common.web import runtime_of

from .domain.beds import ONBOARDING_CHECKLIST, IllegalBedMove, check_manual_move
from .domain.limits import is_matchable
from .domain.model import Home, age_on
from .domain.postcodes import normalise
from .repository import bump, refresh_pathway_bed, utcnow
from .schemas import BedOut, BedUpdate, ChecklistConfirm, HomeCreate, HomeOut, HomeUpdate, RegistrationChange, ResidentOut
from .settings import MatchingSettings
from .tables import beds, checklist_items, homes, referrals, residents

router = APIRouter(prefix="/v1/homes", tags=["homes"])

HomesWrite = Annotated[Principal, Authorize("homes:write", roles=("provider_admin",), councils=False)]
HomesRead = Annotated[Principal, Authorize("homes:read", roles=("provider_admin", "home_manager"), councils=False)]


def etag(version: int) -> str:
    return f'"{version}"'


def _check_if_match(if_match: str | None, version: int) -> None:
    if not if_match:
        raise ProblemError(428, "Precondition Required", "Send If-Match with the home's ETag to change it.")
    wanted = {t.strip().removeprefix("W/").strip('"') for t in if_match.split(",")}
    if "*" not in wanted and str(version) not in wanted:
        raise ProblemError(412, "Precondition Failed", "The home changed since you read it; read it again.",
                           current_etag=etag(version))


def _visible(principal: Principal, home_id: str) -> bool:
    return principal.role != "home_manager" or home_id in principal.homes


async def _home_out(session, home_id: str) -> HomeOut | None:
    h = (await session.execute(select(homes).where(homes.c.id == home_id))).mappings().first()
    if h is None:
        return None
    items = {r["item"]: r for r in (await session.execute(
        select(checklist_items).where(checklist_items.c.home_id == home_id))).mappings()}
    bed_rows = (await session.execute(select(beds).where(beds.c.home_id == home_id).order_by(beds.c.label, beds.c.id))).mappings()
    live = h["status"] == "live"
    return HomeOut(
        **{k: h[k] for k in ("id", "urn", "name", "address", "postcode", "postcode_district", "registered_places",
                             "age_min", "age_max", "sexes", "categories", "specialisms", "registered_manager",
                             "ofsted_rating", "inspection_date", "registration_status", "status", "phase_1_limit",
                             "version", "went_live_at")},
        matchable=live and is_matchable(Home(id=h["id"], registration_status=h["registration_status"],
                                             ofsted_rating=h["ofsted_rating"])),
        checklist=[{"item": i, "done": bool(items.get(i, {}).get("done")), "confirmed_by": items.get(i, {}).get("confirmed_by"),
                    "confirmed_at": items.get(i, {}).get("confirmed_at"), "note": items.get(i, {}).get("note")}
                   for i in ONBOARDING_CHECKLIST],
        beds=[BedOut(id=b["id"], label=b["label"], state=b["state"], is_pathway=b["is_pathway"],
                     reserved_until=b["reserved_until"]) for b in bed_rows])


async def _read(request: Request, principal: Principal, home_id: uuid.UUID, response: Response | None = None) -> HomeOut:
    async with runtime_of(request).db.session() as session:
        out = await _home_out(session, str(home_id))
    if out is None or not _visible(principal, str(home_id)):
        raise NotFound("home")
    if response is not None:
        response.headers["ETag"] = etag(out.version)
    return out


def _same_registration(row, body: HomeCreate, postcode: str) -> bool:
    return (row["name"], row["address"], row["postcode"], row["registered_places"], row["age_min"], row["age_max"],
            sorted(row["sexes"]), sorted(row["categories"])) == (
        body.name, body.address, postcode, body.registered_places, body.age_min, body.age_max,
        sorted(set(body.sexes)), sorted(set(body.categories)))


@router.post("", status_code=201, response_model=HomeOut, summary="Onboard a spoke home")
async def create_home(body: HomeCreate, request: Request, response: Response, principal: HomesWrite) -> HomeOut:
    """The home starts in onboarding with its beds (one per registered place) and an open checklist;
    it enters matching only after go-live."""
    now = utcnow()
    home_id = str(uuid.uuid4())
    postcode, district = normalise(body.postcode)
    phase_1_limit = body.phase_1_limit or MatchingSettings().default_phase_1_limit
    async with runtime_of(request).uow() as uow:
        existing = (await uow.session.execute(select(homes).where(homes.c.urn == body.urn))).mappings().first()
        if existing is not None:
            # a retried POST (same registration facts) answers with the home already onboarded
            if _same_registration(existing, body, postcode):
                response.status_code = 200
                response.headers["Location"] = f"/v1/homes/{existing['id']}"
                return await _read(request, principal, uuid.UUID(existing["id"]), response)
            raise Conflict(f"A home with URN {body.urn} is already onboarded.", home_id=existing["id"])
        await uow.session.execute(homes.insert().values(
            id=home_id, urn=body.urn, name=body.name, address=body.address, postcode=postcode,
            postcode_district=district, registered_places=body.registered_places, age_min=body.age_min,
            age_max=body.age_max, sexes=sorted(set(body.sexes)), categories=sorted(set(body.categories)),
            specialisms=sorted(set(body.specialisms)), registered_manager=body.registered_manager,
            ofsted_rating=body.ofsted_rating, inspection_date=body.inspection_date,
            registration_status=body.registration_status, status="onboarding", phase_1_limit=phase_1_limit,
            version=1, went_live_at=None, created_at=now, updated_at=now))
        for item in ONBOARDING_CHECKLIST:
            await uow.session.execute(checklist_items.insert().values(home_id=home_id, item=item, done=False))
        for n in range(1, body.registered_places + 1):
            await uow.session.execute(beds.insert().values(id=str(uuid.uuid4()), home_id=home_id, label=f"Bed {n}",
                                                           state="vacant", is_pathway=False, updated_at=now))
        await bump(uow.session)
        await uow.commit()
    response.headers["Location"] = f"/v1/homes/{home_id}"
    return await _read(request, principal, uuid.UUID(home_id), response)


@router.get("", response_model=list[HomeOut], summary="List spoke homes")
async def list_homes(request: Request, principal: HomesRead, status: str | None = None) -> list[HomeOut]:
    q = select(homes.c.id).order_by(homes.c.name, homes.c.id)
    if status:
        q = q.where(homes.c.status == status)
    if principal.role == "home_manager":
        q = q.where(homes.c.id.in_(list(principal.homes)))
    async with runtime_of(request).db.session() as session:
        ids = [r.id for r in (await session.execute(q)).all()]
        return [await _home_out(session, i) for i in ids]


@router.get("/{home_id}", response_model=HomeOut, summary="Read a spoke home")
async def get_home(home_id: uuid.UUID, request: Request, response: Response, principal: HomesRead) -> HomeOut:
    return await _read(request, principal, home_id, response)


@router.patch("/{home_id}", response_model=HomeOut, summary="Change a home (If-Match)")
async def update_home(home_id: uuid.UUID, body: HomeUpdate, request: Request, response: Response,
                      principal: HomesWrite, if_match: Annotated[str | None, Header()] = None) -> HomeOut:
    """A rating of Inadequate takes the home out of matching at once."""
    changes = body.model_dump(exclude_unset=True)
    now = utcnow()
    async with runtime_of(request).uow() as uow:
        h = (await uow.session.execute(select(homes).where(homes.c.id == str(home_id)))).mappings().first()
        if h is None:
            raise NotFound("home")
        _check_if_match(if_match, h["version"])
        if "postcode" in changes and changes["postcode"]:
            changes["postcode"], changes["postcode_district"] = normalise(changes["postcode"])
        for key in ("sexes", "categories", "specialisms"):
            if key in changes and changes[key] is not None:
                changes[key] = sorted(set(changes[key]))
        if (changes.get("age_min", h["age_min"]) or 0) > (changes.get("age_max", h["age_max"]) or 0):
            raise ProblemError(422, "Request validation failed", "age_min must not exceed age_max",
                               errors=[{"field": "body.age_min", "rule": "age_range", "message": "age_min > age_max"}])
        places = changes.get("registered_places")
        if places is not None:
            count = len((await uow.session.execute(select(beds.c.id).where(beds.c.home_id == str(home_id)))).all())
            if places < count:
                raise Conflict("Registered places cannot drop below the home's beds; take beds out of service instead.",
                               allowed=["increase registered_places", "PATCH a bed to out_of_service"])
            for n in range(count + 1, places + 1):
                await uow.session.execute(beds.insert().values(id=str(uuid.uuid4()), home_id=str(home_id),
                                                               label=f"Bed {n}", state="vacant", is_pathway=False,
                                                               updated_at=now))
        result = await uow.session.execute(update(homes).where(and_(homes.c.id == str(home_id),
                                                                    homes.c.version == h["version"]))
                                           .values(**changes, version=h["version"] + 1, updated_at=now))
        if result.rowcount != 1:
            raise ProblemError(412, "Precondition Failed", "The home changed since you read it; read it again.")
        await refresh_pathway_bed(uow.session, str(home_id))
        await bump(uow.session)
        await uow.commit()
    return await _read(request, principal, home_id, response)


@router.put("/{home_id}/checklist/{item}", response_model=HomeOut, summary="Confirm an onboarding checklist item")
async def confirm_item(home_id: uuid.UUID, item: str, body: ChecklistConfirm, request: Request, response: Response,
                       principal: HomesWrite) -> HomeOut:
    """Records who confirmed the item and when. Confirming again changes nothing but the note."""
    if item not in ONBOARDING_CHECKLIST:
        raise NotFound("checklist item")
    async with runtime_of(request).uow() as uow:
        row = (await uow.session.execute(select(checklist_items).where(and_(
            checklist_items.c.home_id == str(home_id), checklist_items.c.item == item)))).mappings().first()
        if row is None:
            raise NotFound("home")
        values = {"note": body.note} if body.note is not None else {}
        if body.done != row["done"]:
            values.update(done=body.done, confirmed_by=principal.client_id if body.done else None,
                          confirmed_at=utcnow() if body.done else None)
        if values:
            await uow.session.execute(update(checklist_items).where(and_(
                checklist_items.c.home_id == str(home_id), checklist_items.c.item == item)).values(**values))
        await uow.commit()
    return await _read(request, principal, home_id, response)


@router.post("/{home_id}/go-live", response_model=HomeOut, summary="Put an onboarded home into matching")
async def go_live(home_id: uuid.UUID, request: Request, response: Response, principal: HomesWrite) -> HomeOut:
    """Only when every checklist item is done. Emits home.onboarded once; going live again changes nothing."""
    async with runtime_of(request).uow() as uow:
        h = (await uow.session.execute(select(homes).where(homes.c.id == str(home_id)))).mappings().first()
        if h is None:
            raise NotFound("home")
        if h["status"] != "live":
            done = {r.item for r in (await uow.session.execute(select(checklist_items.c.item).where(and_(
                checklist_items.c.home_id == str(home_id), checklist_items.c.done)))).all()}
            missing = [i for i in ONBOARDING_CHECKLIST if i not in done]
            if missing:
                raise Conflict("The onboarding checklist is not complete.", missing_items=missing,
                               allowed=[f"PUT /v1/homes/{home_id}/checklist/{i}" for i in missing])
            now = utcnow()
            result = await uow.session.execute(update(homes).where(and_(homes.c.id == str(home_id),
                                                                        homes.c.status == "onboarding"))
                                               .values(status="live", went_live_at=now, updated_at=now,
                                                       version=h["version"] + 1))
            if result.rowcount == 1:
                await refresh_pathway_bed(uow.session, str(home_id))
                await bump(uow.session)
                await uow.emit(HomeOnboarded(home_id=home_id, urn=h["urn"], postcode_district=h["postcode_district"],
                                             registered_places=h["registered_places"], age_min=h["age_min"],
                                             age_max=h["age_max"]), subject_id=str(home_id), la_code=None)
            await uow.commit()
    return await _read(request, principal, home_id, response)


async def _set_registration(request: Request, principal: Principal, home_id: uuid.UUID, status: str,
                            response: Response) -> HomeOut:
    async with runtime_of(request).uow() as uow:
        h = (await uow.session.execute(select(homes.c.version, homes.c.registration_status)
                                       .where(homes.c.id == str(home_id)))).first()
        if h is None:
            raise NotFound("home")
        if h.registration_status != status:
            await uow.session.execute(update(homes).where(homes.c.id == str(home_id)).values(
                registration_status=status, version=h.version + 1, updated_at=utcnow()))
            await bump(uow.session)
        await uow.commit()
    return await _read(request, principal, home_id, response)


@router.post("/{home_id}/suspend", response_model=HomeOut, summary="Suspend a home's registration")
async def suspend(home_id: uuid.UUID, body: RegistrationChange, request: Request, response: Response,
                  principal: HomesWrite) -> HomeOut:
    """Takes the home out of matching at once (existing reservations stand; new ones cannot be made)."""
    return await _set_registration(request, principal, home_id, "suspended", response)


@router.post("/{home_id}/reinstate", response_model=HomeOut, summary="Reinstate a suspended home")
async def reinstate(home_id: uuid.UUID, body: RegistrationChange, request: Request, response: Response,
                    principal: HomesWrite) -> HomeOut:
    return await _set_registration(request, principal, home_id, "registered", response)


@router.get("/{home_id}/beds", response_model=list[BedOut], summary="A home's beds")
async def list_beds(home_id: uuid.UUID, request: Request, principal: HomesRead) -> list[BedOut]:
    return (await _read(request, principal, home_id)).beds


@router.patch("/{home_id}/beds/{bed_id}", response_model=BedOut, summary="Take a bed out of service or back")
async def update_bed(home_id: uuid.UUID, bed_id: uuid.UUID, body: BedUpdate, request: Request,
                     principal: HomesWrite) -> BedOut:
    async with runtime_of(request).uow() as uow:
        b = (await uow.session.execute(select(beds).where(and_(beds.c.id == str(bed_id),
                                                               beds.c.home_id == str(home_id))))).mappings().first()
        if b is None:
            raise NotFound("bed")
        if b["state"] != body.state:
            try:
                check_manual_move(b["state"], body.state)
            except IllegalBedMove as exc:
                raise Conflict(str(exc), allowed=list(exc.allowed)) from None
            result = await uow.session.execute(update(beds).where(and_(beds.c.id == str(bed_id),
                                                                       beds.c.state == b["state"]))
                                               .values(state=body.state, is_pathway=False, updated_at=utcnow()))
            if result.rowcount != 1:
                raise Conflict("The bed changed meanwhile; read it again.")
            await refresh_pathway_bed(uow.session, str(home_id), freed=str(bed_id) if body.state == "vacant" else None)
            await bump(uow.session)
        await uow.commit()
    out = next(x for x in (await _read(request, principal, home_id)).beds if str(x.id) == str(bed_id))
    return out


@router.get("/{home_id}/residents", response_model=list[ResidentOut], summary="The children living in a home")
async def list_residents(home_id: uuid.UUID, request: Request, principal: HomesRead) -> list[ResidentOut]:
    """For the hub and the home's own managers: each child by referral id, age, sex, phase and codes (never a name)."""
    await _read(request, principal, home_id)
    q = (select(residents, referrals.c.date_of_birth, referrals.c.sex, referrals.c.needs, referrals.c.risks)
         .select_from(residents.outerjoin(referrals, referrals.c.id == residents.c.referral_id))
         .where(and_(residents.c.home_id == str(home_id), residents.c.end_date.is_(None)))
         .order_by(residents.c.start_date, residents.c.placement_id))
    async with runtime_of(request).db.session() as session:
        rows = (await session.execute(q)).mappings().all()
    today = utcnow().date()
    out = [ResidentOut(placement_id=r["placement_id"], referral_id=r["referral_id"], bed_id=r["bed_id"],
                       phase=r["phase"], start_date=r["start_date"],
                       age=age_on(r["date_of_birth"], today) if r["date_of_birth"] else None, sex=r["sex"],
                       codes=sorted({x["code"] for x in [*(r["needs"] or []), *(r["risks"] or [])]})) for r in rows]
    touched(request, *(o.referral_id for o in out))
    return out
