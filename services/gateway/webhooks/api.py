"""/v1/webhooks: a council's client registers endpoints for event types, reads the delivery log and
redelivers by hand. Another council's endpoint answers 404, in a list it is simply not there.

HTTP only: parse, authorise, run the service's operations through libs.common.http.write (which owns the
commit), shape the answer. Changes to an endpoint take If-Match (libs.common.http: `*`, lists, weak tags);
PATCH requires it. The webhooks' domain errors become problems once, in PROBLEMS (the app registers them)."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from libs.common.auth import Authorize, Principal
from libs.common.errors import Conflict, NotFound, ProblemError, field_problem
from libs.common.http import IfMatch, RequiredIfMatch, Written, etag, stale, write

from ..domain.webhooks import (DeliveryNotFound, DeliveryWithheld, EndpointDisabled, EndpointNotFound,
                               InvalidWebhookUrl, NotACouncil, Stale, UrlTaken)
from . import service
from .schemas import (Delivery, DeliveryList, WebhookEndpoint, WebhookEndpointCreate, WebhookEndpointCreated,
                      WebhookEndpointList, WebhookEndpointUpdate)

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
Manager = Annotated[Principal, Authorize("webhooks:manage")]

PROBLEMS = {
    EndpointNotFound: lambda exc: NotFound("webhook endpoint"),
    DeliveryNotFound: lambda exc: NotFound("delivery"),
    Stale: lambda exc: stale(exc.current_version, "webhook endpoint"),
    UrlTaken: lambda exc: Conflict(f"An endpoint for this URL is already registered ({exc.endpoint_id}); delete "
                                   "it first.", endpoint_id=exc.endpoint_id),
    EndpointDisabled: lambda exc: Conflict("The endpoint is disabled; enable it first (POST "
                                           "/v1/webhooks/{id}/enable).", allowed=["enable"]),
    DeliveryWithheld: lambda exc: Conflict("The delivery was withheld for a restriction of processing on the "
                                           "child's record; it is never sent, not even after the restriction is "
                                           "lifted.", allowed=[]),
    NotACouncil: lambda exc: ProblemError(403, "Forbidden", "Webhook endpoints are registered by a council's "
                                          "client."),
    # a URL is only ever sent in the body, as `url`
    InvalidWebhookUrl: lambda exc: field_problem("body.url", exc.rule, str(exc)),
}
_PRECONDITIONS = {412: {"description": "The endpoint changed since the ETag was read (stale-etag)"}}


def _settings(request: Request):
    return request.app.state.runtime.settings


def _wake(request: Request) -> None:
    request.app.state.webhook_wake.set()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _endpoint(row: dict, status_code: int = 200, model=WebhookEndpoint, **headers: str) -> Written:
    return Written(model.model_validate(row), status_code=status_code, headers={"ETag": etag(row["version"]),
                                                                                   **headers})


@router.post("", name="create_webhook", status_code=201, response_model=WebhookEndpointCreated, summary="Register a webhook endpoint",
             responses={200: {"model": WebhookEndpoint, "description": "The same endpoint was already registered; "
                                                                        "its secret is not shown again (rotate-secret "
                                                                        "makes a new one)"}})
async def create(body: WebhookEndpointCreate, request: Request, principal: Manager):
    """Events about this council's children of the named types are posted to the URL, signed with the
    returned secret (Standard Webhooks). Registering the same URL with the same types again returns the
    existing endpoint (safe to retry) without its secret: a secret is shown once, on creation (a lost one is
    replaced by POST /v1/webhooks/{id}/rotate-secret). The URL must be https to a public host: addresses that are not
    public (however spelled) and internal names are refused (422 naming body.url and the rule)."""
    async def op(uow) -> Written:
        row, created = await service.register(
            uow, principal, url=body.url, event_types=body.event_types, description=body.description,
            allow_http_localhost=_settings(request).webhook_allow_http_localhost, now=_now())
        if not created:  # the secret is shown once, on creation, never again
            return _endpoint(row, 200, WebhookEndpoint)
        return _endpoint(row, 201, WebhookEndpointCreated, Location=f"/v1/webhooks/{row['id']}")
    return await write(request, principal, op)


@router.get("", name="list_webhooks", response_model=WebhookEndpointList, summary="List webhook endpoints")
async def list_endpoints(request: Request, principal: Manager) -> WebhookEndpointList:
    async with request.app.state.runtime.db.reader() as session:
        rows = await service.endpoints(session, principal)
    return WebhookEndpointList(items=[WebhookEndpoint.model_validate(r) for r in rows])


@router.get("/{endpoint_id}", name="get_webhook", response_model=WebhookEndpoint, summary="Read a webhook endpoint")
async def get_endpoint(endpoint_id: uuid.UUID, request: Request, principal: Manager):
    async with request.app.state.runtime.db.reader() as session:
        row = await service.endpoint(session, principal, str(endpoint_id))
    written = _endpoint(row)
    return JSONResponse(jsonable_encoder(written.body), headers=written.headers)


@router.patch("/{endpoint_id}", name="update_webhook", response_model=WebhookEndpoint, summary="Change a webhook endpoint",
              responses=_PRECONDITIONS)
async def update_endpoint(endpoint_id: uuid.UUID, body: WebhookEndpointUpdate, request: Request,
                          principal: Manager, if_match: RequiredIfMatch):
    """Changes apply to events fanned out from now on; deliveries already made keep their URL's log.
    Send If-Match with the ETag of your last read."""
    async def op(uow) -> Written:
        row = await service.change(uow, principal, str(endpoint_id), body.model_dump(exclude_unset=True), if_match,
                                   allow_http_localhost=_settings(request).webhook_allow_http_localhost,
                                   now=_now())
        return _endpoint(row)
    return await write(request, principal, op)


@router.delete("/{endpoint_id}", name="delete_webhook", status_code=204, summary="Delete a webhook endpoint and its delivery log",
               responses=_PRECONDITIONS)
async def delete_endpoint(endpoint_id: uuid.UUID, request: Request, principal: Manager, if_match: IfMatch):
    async def op(uow) -> Written:
        await service.remove(uow, principal, str(endpoint_id), if_match)
        return Written(None, status_code=204)
    await write(request, principal, op)  # commits; a 204 has no body
    return Response(status_code=204)


@router.post("/{endpoint_id}/enable", name="enable_webhook", response_model=WebhookEndpoint, summary="Enable a disabled endpoint again",
             responses=_PRECONDITIONS)
async def enable(endpoint_id: uuid.UUID, request: Request, principal: Manager, if_match: IfMatch):
    """Deliveries still owed (pending or awaiting a retry) are attempted again at once."""
    async def op(uow) -> Written:
        return _endpoint(await service.enable(uow, principal, str(endpoint_id), if_match, _now()))
    answer = await write(request, principal, op)
    _wake(request)
    return answer


@router.post("/{endpoint_id}/rotate-secret", name="rotate_webhook_secret", response_model=WebhookEndpointCreated,
             summary="Replace the signing secret", responses=_PRECONDITIONS)
async def rotate_secret(endpoint_id: uuid.UUID, request: Request, principal: Manager, if_match: IfMatch):
    """Deliveries carry a signature by the new secret and, for the grace period
    (ITP_WEBHOOK_SECRET_GRACE_HOURS, 24 h), one by the previous secret too, so the receiver can switch over
    without losing an event. A repeated call rotates again; the secret it replaced keeps its grace."""
    grace = timedelta(hours=_settings(request).webhook_secret_grace_hours)

    async def op(uow) -> Written:
        row = await service.rotate_secret(uow, principal, str(endpoint_id), if_match, grace=grace, now=_now())
        return _endpoint(row, model=WebhookEndpointCreated)
    return await write(request, principal, op)


@router.get("/{endpoint_id}/deliveries", name="list_webhook_deliveries", response_model=DeliveryList, summary="The delivery log of an endpoint")
async def deliveries(endpoint_id: uuid.UUID, request: Request, principal: Manager,
                     state: Annotated[str | None, Query(pattern="^(pending|failed|redeliver|succeeded|abandoned|withheld)$")] = None,
                     limit: Annotated[int, Query(ge=1, le=200)] = 50) -> DeliveryList:
    """Each attempt's error is a code: refused_address, refused_url, dns_failure, connect_failed, timeout,
    tls_error, protocol_error or http_<status>. A delivery about a child whose record is under a restriction of
    processing is `withheld` (withheld_reason `restriction`, the restriction's id): never sent, so the log shows
    the gap and why."""
    async with request.app.state.runtime.db.reader() as session:
        rows = await service.delivery_log(session, principal, str(endpoint_id), state, limit)
    return DeliveryList(items=[Delivery.model_validate(r) for r in rows])


@router.post("/{endpoint_id}/deliveries/{delivery_id}/redeliver", name="redeliver_webhook_delivery", status_code=202, response_model=Delivery,
             summary="Send a delivery again now",
             responses={409: {"description": "Withheld for a restriction of processing: never sent"},
                        451: {"description": "The child's record is under a restriction of processing"}})
async def redeliver(endpoint_id: uuid.UUID, request: Request, principal: Manager,
                    delivery_id: Annotated[str, Path(max_length=40)]):
    """The same webhook-id is sent again, so a receiver that already has it can tell. A withheld delivery is
    never sent (409); one about a child whose record is now under a restriction of processing answers 451."""
    async def op(uow) -> Written:
        row = await service.redeliver(uow, principal, str(endpoint_id), delivery_id, _now())
        return Written(Delivery.model_validate(row), status_code=202)
    answer = await write(request, principal, op)
    _wake(request)
    return answer
