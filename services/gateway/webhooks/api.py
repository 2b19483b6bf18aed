"""/v1/webhooks: a council's client registers endpoints for event types, reads the delivery log and
redelivers by hand. Another council's endpoint answers 404, in a list it is simply not there."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from sqlalchemy import delete, select, update

from libs.common.auth import Authorize, Principal
from libs.common.errors import PROBLEM_BASE, Conflict, NotFound, ProblemError
from libs.common.tenancy import readable

from ..domain.webhooks import InvalidWebhookUrl, check_url, new_secret
from ..tables import webhook_attempts, webhook_deliveries, webhook_endpoints
from .schemas import (Delivery, DeliveryAttempt, DeliveryList, WebhookEndpoint, WebhookEndpointCreate,
                      WebhookEndpointCreated, WebhookEndpointList, WebhookEndpointUpdate)

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
Manager = Annotated[Principal, Authorize("webhooks:manage")]


def _db(request: Request):
    return request.app.state.runtime.db


def _wake(request: Request) -> None:
    request.app.state.webhook_wake.set()


def _etag(row: dict) -> str:
    return f'"{row["version"]}"'


def _checked_url(request: Request, url: str) -> str:
    try:
        return check_url(url, allow_http_localhost=request.app.state.runtime.settings.webhook_allow_http_localhost)
    except InvalidWebhookUrl as exc:
        raise ProblemError(422, "Request validation failed", f"Invalid fields: body.url ({exc})",
                           type_=PROBLEM_BASE + "validation-error",
                           errors=[{"field": "body.url", "rule": "webhook_url", "message": str(exc)}]) from None


async def _endpoint(session, principal: Principal, endpoint_id: str) -> dict:
    stmt = readable(select(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id), principal,
                    webhook_endpoints.c.la_code)
    row = (await session.execute(stmt)).mappings().first()
    if row is None:
        raise NotFound("webhook endpoint")
    return dict(row)


@router.post("", status_code=201, response_model=WebhookEndpointCreated, summary="Register a webhook endpoint",
             responses={200: {"model": WebhookEndpointCreated, "description": "The same endpoint was already registered"}})
async def create(body: WebhookEndpointCreate, request: Request, response: Response,
                 principal: Manager) -> WebhookEndpointCreated:
    """Events about this council's children of the named types are posted to the URL, signed with the
    returned secret (Standard Webhooks). Registering the same URL with the same types again returns the
    existing endpoint (safe to retry)."""
    if not principal.is_council:
        raise ProblemError(403, "Forbidden", "Webhook endpoints are registered by a council's client.")
    _checked_url(request, body.url)
    now = datetime.now(timezone.utc)
    async with _db(request).session() as session, session.begin():
        existing = (await session.execute(select(webhook_endpoints).where(
            webhook_endpoints.c.la_code == principal.la_code, webhook_endpoints.c.url == body.url))).mappings().first()
        if existing is not None:
            if list(existing["event_types"]) == body.event_types and existing["description"] == body.description:
                response.status_code = 200
                return WebhookEndpointCreated.model_validate(dict(existing))
            raise Conflict(f"An endpoint for this URL is already registered ({existing['id']}); delete it first.",
                           endpoint_id=existing["id"])
        row = dict(id=str(uuid.uuid4()), la_code=principal.la_code, client_id=principal.client_id, url=body.url,
                   description=body.description, event_types=body.event_types, secret=new_secret(), active=True,
                   disabled_reason=None, disabled_at=None, consecutive_failures=0, failing_since=None,
                   version=1, created_at=now, updated_at=now)
        await session.execute(webhook_endpoints.insert().values(**row))
    response.headers["Location"] = f"/v1/webhooks/{row['id']}"
    response.headers["ETag"] = _etag(row)
    return WebhookEndpointCreated.model_validate(row)


@router.get("", response_model=WebhookEndpointList, summary="List webhook endpoints")
async def list_endpoints(request: Request, principal: Manager) -> WebhookEndpointList:
    stmt = readable(select(webhook_endpoints).order_by(webhook_endpoints.c.created_at), principal,
                    webhook_endpoints.c.la_code)
    async with _db(request).session() as session:
        rows = (await session.execute(stmt)).mappings().all()
    return WebhookEndpointList(items=[WebhookEndpoint.model_validate(dict(r)) for r in rows])


@router.get("/{endpoint_id}", response_model=WebhookEndpoint, summary="Read a webhook endpoint")
async def get_endpoint(endpoint_id: uuid.UUID, request: Request, response: Response,
                       principal: Manager) -> WebhookEndpoint:
    async with _db(request).session() as session:
        row = await _endpoint(session, principal, str(endpoint_id))
    response.headers["ETag"] = _etag(row)
    return WebhookEndpoint.model_validate(row)


@router.patch("/{endpoint_id}", response_model=WebhookEndpoint, summary="Change a webhook endpoint",
              responses={412: {"description": "The endpoint changed since the ETag was read"},
                         428: {"description": "If-Match is required"}})
async def update_endpoint(endpoint_id: uuid.UUID, body: WebhookEndpointUpdate, request: Request, response: Response,
                          principal: Manager,
                          if_match: Annotated[str | None, Header(description="The ETag from the last read")] = None,
                          ) -> WebhookEndpoint:
    """Changes apply to events fanned out from now on; deliveries already made keep their URL's log."""
    changes = body.model_dump(exclude_unset=True)
    if "url" in changes:
        _checked_url(request, changes["url"])
    async with _db(request).session() as session, session.begin():
        row = await _endpoint(session, principal, str(endpoint_id))
        if if_match is None:
            raise ProblemError(428, "Precondition Required", "Send If-Match with the ETag from GET /v1/webhooks/{id}.",
                               type_=PROBLEM_BASE + "precondition-required")
        if if_match.strip() not in (_etag(row), "*"):
            raise ProblemError(412, "Precondition Failed", "The endpoint changed since you read it; read it again.",
                               type_=PROBLEM_BASE + "precondition-failed", current_etag=_etag(row))
        if changes.get("url") and changes["url"] != row["url"]:
            clash = (await session.execute(select(webhook_endpoints.c.id).where(
                webhook_endpoints.c.la_code == row["la_code"], webhook_endpoints.c.url == changes["url"]))).first()
            if clash:
                raise Conflict(f"An endpoint for this URL is already registered ({clash.id}).", endpoint_id=clash.id)
        changes = {k: v for k, v in changes.items() if v is not None or k == "description"}
        updated = await session.execute(update(webhook_endpoints).where(
            webhook_endpoints.c.id == str(endpoint_id), webhook_endpoints.c.version == row["version"])
            .values(**changes, version=row["version"] + 1, updated_at=datetime.now(timezone.utc)))
        if updated.rowcount == 0:
            raise ProblemError(412, "Precondition Failed", "The endpoint changed since you read it; read it again.",
                               type_=PROBLEM_BASE + "precondition-failed")
        row = await _endpoint(session, principal, str(endpoint_id))
    response.headers["ETag"] = _etag(row)
    return WebhookEndpoint.model_validate(row)


@router.delete("/{endpoint_id}", status_code=204, summary="Delete a webhook endpoint and its delivery log")
async def delete_endpoint(endpoint_id: uuid.UUID, request: Request, principal: Manager) -> Response:
    async with _db(request).session() as session, session.begin():
        await _endpoint(session, principal, str(endpoint_id))
        ids = select(webhook_deliveries.c.id).where(webhook_deliveries.c.endpoint_id == str(endpoint_id))
        await session.execute(delete(webhook_attempts).where(webhook_attempts.c.delivery_id.in_(ids)))
        await session.execute(delete(webhook_deliveries).where(webhook_deliveries.c.endpoint_id == str(endpoint_id)))
        await session.execute(delete(webhook_endpoints).where(webhook_endpoints.c.id == str(endpoint_id)))
    return Response(status_code=204)


@router.post("/{endpoint_id}/enable", response_model=WebhookEndpoint, summary="Enable a disabled endpoint again")
async def enable(endpoint_id: uuid.UUID, request: Request, principal: Manager) -> WebhookEndpoint:
    """Deliveries still owed (pending or awaiting a retry) are attempted again at once."""
    now = datetime.now(timezone.utc)
    async with _db(request).session() as session, session.begin():
        await _endpoint(session, principal, str(endpoint_id))
        await session.execute(update(webhook_endpoints).where(webhook_endpoints.c.id == str(endpoint_id)).values(
            active=True, disabled_reason=None, disabled_at=None, consecutive_failures=0, failing_since=None,
            version=webhook_endpoints.c.version + 1, updated_at=now))
        await session.execute(update(webhook_deliveries).where(
            webhook_deliveries.c.endpoint_id == str(endpoint_id), webhook_deliveries.c.state.in_(("pending", "failed", "redeliver")))
            .values(next_attempt_at=now, updated_at=now))
        row = await _endpoint(session, principal, str(endpoint_id))
    _wake(request)
    return WebhookEndpoint.model_validate(row)


@router.post("/{endpoint_id}/rotate-secret", response_model=WebhookEndpointCreated,
             summary="Replace the signing secret")
async def rotate_secret(endpoint_id: uuid.UUID, request: Request, response: Response,
                        principal: Manager) -> WebhookEndpointCreated:
    """Deliveries carry a signature by the new secret and, for the grace period
    (ITP_WEBHOOK_SECRET_GRACE_HOURS, 24 h), one by the previous secret too, so the receiver can switch over
    without losing an event. A repeated call rotates again; the secret it replaced keeps its grace."""
    now = datetime.now(timezone.utc)
    grace = timedelta(hours=request.app.state.runtime.settings.webhook_secret_grace_hours)
    async with _db(request).session() as session, session.begin():
        row = await _endpoint(session, principal, str(endpoint_id))
        await session.execute(update(webhook_endpoints).where(webhook_endpoints.c.id == str(endpoint_id)).values(
            secret=new_secret(), previous_secret=row["secret"], previous_secret_until=now + grace,
            version=webhook_endpoints.c.version + 1, updated_at=now))
        row = await _endpoint(session, principal, str(endpoint_id))
    response.headers["ETag"] = _etag(row)
    return WebhookEndpointCreated.model_validate(row)


@router.get("/{endpoint_id}/deliveries", response_model=DeliveryList, summary="The delivery log of an endpoint")
async def deliveries(endpoint_id: uuid.UUID, request: Request, principal: Manager,
                     state: Annotated[str | None, Query(pattern="^(pending|failed|redeliver|succeeded|abandoned)$")] = None,
                     limit: Annotated[int, Query(ge=1, le=200)] = 50) -> DeliveryList:
    async with _db(request).session() as session:
        await _endpoint(session, principal, str(endpoint_id))
        stmt = (select(webhook_deliveries).where(webhook_deliveries.c.endpoint_id == str(endpoint_id))
                .order_by(webhook_deliveries.c.created_at.desc()).limit(limit))
        if state:
            stmt = stmt.where(webhook_deliveries.c.state == state)
        rows = (await session.execute(stmt)).mappings().all()
        attempts = (await session.execute(select(webhook_attempts).where(
            webhook_attempts.c.delivery_id.in_([r["id"] for r in rows])).order_by(webhook_attempts.c.id))).mappings().all()
    log: dict[str, list[DeliveryAttempt]] = {}
    for a in attempts:
        log.setdefault(a["delivery_id"], []).append(DeliveryAttempt.model_validate(dict(a)))
    return DeliveryList(items=[Delivery.model_validate({**dict(r), "log": log.get(r["id"], [])}) for r in rows])


@router.post("/{endpoint_id}/deliveries/{delivery_id}/redeliver", status_code=202, response_model=Delivery,
             summary="Send a delivery again now")
async def redeliver(endpoint_id: uuid.UUID, delivery_id: str, request: Request, principal: Manager) -> Delivery:
    """The same webhook-id is sent again, so a receiver that already has it can tell."""
    now = datetime.now(timezone.utc)
    async with _db(request).session() as session, session.begin():
        endpoint = await _endpoint(session, principal, str(endpoint_id))
        if not endpoint["active"]:
            raise Conflict("The endpoint is disabled; enable it first (POST /v1/webhooks/{id}/enable).",
                           allowed=["enable"])
        found = await session.execute(update(webhook_deliveries).where(
            webhook_deliveries.c.id == delivery_id, webhook_deliveries.c.endpoint_id == str(endpoint_id))
            .values(state="redeliver", next_attempt_at=now, updated_at=now))
        if found.rowcount == 0:
            raise NotFound("delivery")
        row = (await session.execute(select(webhook_deliveries).where(webhook_deliveries.c.id == delivery_id))
               ).mappings().first()
    _wake(request)
    return Delivery.model_validate(dict(row))
