"""Spoke homes: onboarding, the checklist, going live, suspension, changes, withdrawal, beds and residents.

provider_admin (and the hub) onboard and change homes; a home_manager reads only their own homes. Councils
read one thing: the profile of a home where they have a child (GET /v1/homes/{id}/profile: name, address,
the registered manager's work contact, Ofsted URN and rating), never beds, residents or other children; any
other home is 404 to them. A home's ETag is its version: PATCH and DELETE need If-Match, go-live, suspend and
reinstate take it when sent.
"""
from __future__ import annotations

import uuid
from typing import Annotated, get_args

from typing import Literal

from fastapi import APIRouter, Request, Response

from libs.common.audit import touched
from libs.common.auth import Authorize, Principal
from libs.common.errors import PROBLEM_BASE, ProblemError
from libs.common.vocabulary import HOME_SPECIALISMS, NEEDS_AND_RISKS, REGISTRATION_CATEGORIES
from libs.common.http import IdempotencyKey, IfMatch, RequiredIfMatch, Written, etag, write

from .. import service
from ..domain.beds import ONBOARDING_CHECKLIST
from ..domain.limits import HARD_LIMITS
from ..domain.rules import load_rules
from ..schemas import (BedOut, BedPage, BedUpdate, CategoryTerm, ChecklistConfirm, CommunicationSupport, HomeCreate,
                       HomeOut, HomePage, HomeProfile, HomeUpdate, HomeVocabulary, RegistrationChange, ResidentOut,
                       ResidentPage, SpecialismTerm)

router = APIRouter(prefix="/v1/homes", tags=["homes"])

HomesWrite = Annotated[Principal, Authorize("homes:write", roles=("provider_admin",), councils=False)]
HomesRead = Annotated[Principal, Authorize("homes:read", roles=("provider_admin", "home_manager"), councils=False)]
AnyReader = Annotated[Principal, Authorize()]  # the route checks what each kind of caller may read
ChecklistItemName = Literal[ONBOARDING_CHECKLIST]  # type: ignore[valid-type]


def _written(view: dict, status_code: int = 200, **headers: str) -> Written:
    return Written(HomeOut.model_validate(view), status_code=status_code,
                   headers={"ETag": etag(view["version"]), **headers})


@router.post("", status_code=201, response_model=HomeOut, summary="Onboard a spoke home")
async def create_home(body: HomeCreate, request: Request, principal: HomesWrite,
                      idempotency_key: IdempotencyKey = None):
    """The home starts in onboarding with its beds (one per registered place) and an open checklist;
    it enters matching only after go-live. A retried POST (same registration facts) answers 200 with the
    home already onboarded; another home with the URN is 409."""
    async def op(uow) -> Written:
        view, created = await service.onboard_home(uow, principal, body.model_dump(), service.utcnow())
        return _written(view, 201 if created else 200, Location=f"/v1/homes/{view['id']}")
    return await write(request, principal, op, key=idempotency_key, body=body)


@router.get("", response_model=HomePage, summary="List spoke homes")
async def list_homes(request: Request, principal: HomesRead, status: str | None = None) -> HomePage:
    async with request.app.state.runtime.db.snapshot() as session:  # each home's beds and children agree
        return HomePage(items=[HomeOut.model_validate(v) for v in await service.list_homes(session, principal, status)],
                        next_cursor=None)


@router.get("/vocabulary", response_model=HomeVocabulary,
            summary="The codes a home uses: specialisms and registered categories, and what each means in matching")
async def home_vocabulary(principal: AnyReader) -> HomeVocabulary:
    """Reference data (no child records): each specialism with the needs it serves, each registered category
    with the needs that call for it (the matching rules in force), and the hard limits."""
    rules = load_rules()
    default = rules.need_categories["default"]
    called = {c: sorted(code for code in NEEDS_AND_RISKS if rules.category_for(code) == c)
              for c in REGISTRATION_CATEGORIES}
    return HomeVocabulary(
        specialisms=[SpecialismTerm(code=t.code, label=t.label, serves=sorted(rules.specialisms.get(t.code, ())))
                     for t in HOME_SPECIALISMS.values()],
        registration_categories=[CategoryTerm(code=t.code, label=t.label, called_for_by=called[t.code])
                                 for t in REGISTRATION_CATEGORIES.values()],
        default_category=default, hard_limits=list(HARD_LIMITS),
        communication_support=list(get_args(CommunicationSupport)),
        requirement_points=dict(rules.requirement_points or {}))


@router.get("/{home_id}/profile", response_model=HomeProfile,
            summary="The home a council's child lives in: name, address, manager's contact, Ofsted URN and rating")
async def get_home_profile(home_id: uuid.UUID, request: Request, principal: AnyReader) -> HomeProfile:
    """A council reads the profile of a home where it has a child (an accepted admission, reserved or
    arrived, including a past placement); any other home is 404. The profile says nothing about the other
    children there. Hub roles read the profile of any home they may read."""
    if principal.is_council:
        if not principal.allows("placements:read"):
            raise ProblemError(403, "Forbidden", "This operation needs the scope(s) placements:read.",
                               type_=PROBLEM_BASE + "forbidden")
    elif not (principal.allows("homes:read") or principal.allows("placements:read")):
        raise ProblemError(403, "Forbidden", "This operation needs the scope homes:read or placements:read.",
                           type_=PROBLEM_BASE + "forbidden")
    async with request.app.state.runtime.db.reader() as session:
        return HomeProfile.model_validate(await service.home_profile(session, principal, str(home_id)))


@router.get("/{home_id}", response_model=HomeOut, summary="Read a spoke home")
async def get_home(home_id: uuid.UUID, request: Request, response: Response, principal: HomesRead) -> HomeOut:
    async with request.app.state.runtime.db.snapshot() as session:  # its beds and children agree
        view = await service.home(session, principal, str(home_id))
    response.headers["ETag"] = etag(view["version"])
    return HomeOut.model_validate(view)


@router.patch("/{home_id}", response_model=HomeOut, summary="Change a home (If-Match)")
async def update_home(home_id: uuid.UUID, body: HomeUpdate, request: Request, principal: HomesWrite,
                      if_match: RequiredIfMatch, idempotency_key: IdempotencyKey = None):
    """Only the fields sent change. A rating of Inadequate takes the home out of matching at once."""
    async def op(uow) -> Written:
        return _written(await service.update_home(uow, principal, str(home_id), body.model_dump(exclude_unset=True),
                                                  if_match, service.utcnow()))
    return await write(request, principal, op, key=idempotency_key, body=body)


@router.delete("/{home_id}", status_code=204, summary="Withdraw a home created by mistake (only while onboarding)",
               responses={409: {"description": "The home is live: suspend it instead"},
                          412: {"description": "If-Match is stale"}, 428: {"description": "If-Match is missing"}})
async def withdraw_home(home_id: uuid.UUID, request: Request, principal: HomesWrite, if_match: RequiredIfMatch,
                        idempotency_key: IdempotencyKey = None):
    """Removes a home still onboarding (never offered to matching, so nothing refers to it), with its
    checklist and beds; its URN may be onboarded again. A live home answers 409: suspend it instead."""
    async def op(uow) -> Written:
        await service.withdraw_onboarding_home(uow, principal, str(home_id), if_match)
        return Written(None, status_code=204)
    answered = await write(request, principal, op, key=idempotency_key)
    replayed = {k: v for k, v in answered.headers.items() if k.lower() == "idempotent-replayed"}
    return Response(status_code=204, headers=replayed)  # no body, not even `null`


@router.put("/{home_id}/checklist/{item}", response_model=HomeOut, summary="Confirm an onboarding checklist item")
async def confirm_item(home_id: uuid.UUID, item: ChecklistItemName, body: ChecklistConfirm, request: Request,
                       principal: HomesWrite, idempotency_key: IdempotencyKey = None):
    """Records who confirmed the item and when. Confirming again changes nothing but the note."""
    async def op(uow) -> Written:
        return _written(await service.confirm_checklist_item(uow, principal, str(home_id), item, done=body.done,
                                                             note=body.note, now=service.utcnow()))
    return await write(request, principal, op, key=idempotency_key, body=body)


@router.post("/{home_id}/go-live", response_model=HomeOut, summary="Put an onboarded home into matching")
async def go_live(home_id: uuid.UUID, request: Request, principal: HomesWrite, if_match: IfMatch,
                  idempotency_key: IdempotencyKey = None):
    """Only when every checklist item is done. Emits home.onboarded once; going live again changes nothing."""
    async def op(uow) -> Written:
        return _written(await service.go_live(uow, principal, str(home_id), if_match, service.utcnow()))
    return await write(request, principal, op, key=idempotency_key)


async def _registration(request: Request, principal: Principal, home_id: uuid.UUID, status: str, if_match,
                        idempotency_key: str | None, body: RegistrationChange):
    async def op(uow) -> Written:
        return _written(await service.set_registration(uow, principal, str(home_id), status, if_match,
                                                       service.utcnow()))
    return await write(request, principal, op, key=idempotency_key, body=body)


@router.post("/{home_id}/suspend", response_model=HomeOut, summary="Suspend a home's registration")
async def suspend(home_id: uuid.UUID, body: RegistrationChange, request: Request, principal: HomesWrite,
                  if_match: IfMatch, idempotency_key: IdempotencyKey = None):
    """Takes the home out of matching at once (existing reservations stand; new ones cannot be made)."""
    return await _registration(request, principal, home_id, "suspended", if_match, idempotency_key, body)


@router.post("/{home_id}/reinstate", response_model=HomeOut, summary="Reinstate a suspended home")
async def reinstate(home_id: uuid.UUID, body: RegistrationChange, request: Request, principal: HomesWrite,
                    if_match: IfMatch, idempotency_key: IdempotencyKey = None):
    return await _registration(request, principal, home_id, "registered", if_match, idempotency_key, body)


@router.get("/{home_id}/beds", response_model=BedPage, summary="A home's beds")
async def list_beds(home_id: uuid.UUID, request: Request, principal: HomesRead) -> BedPage:
    async with request.app.state.runtime.db.snapshot() as session:  # its beds and children agree
        view = await service.home(session, principal, str(home_id))
    return BedPage(items=[BedOut.model_validate(b) for b in view["beds"]], next_cursor=None)


@router.patch("/{home_id}/beds/{bed_id}", response_model=BedOut, summary="Take a bed out of service or back")
async def update_bed(home_id: uuid.UUID, bed_id: uuid.UUID, body: BedUpdate, request: Request,
                     principal: HomesWrite, idempotency_key: IdempotencyKey = None):
    async def op(uow) -> Written:
        bed = await service.set_bed_state(uow, principal, str(home_id), str(bed_id), body.state, service.utcnow())
        return Written(BedOut.model_validate(bed))
    return await write(request, principal, op, key=idempotency_key, body=body)


@router.get("/{home_id}/residents", response_model=ResidentPage, summary="The children living in a home")
async def list_residents(home_id: uuid.UUID, request: Request, principal: HomesRead) -> ResidentPage:
    """For the hub and the home's own managers: each child by referral id, age, sex, phase and codes (never a name)."""
    async with request.app.state.runtime.db.reader() as session:
        out = [ResidentOut.model_validate(r)
               for r in await service.residents(session, principal, str(home_id), service.utcnow().date())]
    touched(request, *(o.referral_id for o in out))
    return ResidentPage(items=out, next_cursor=None)
