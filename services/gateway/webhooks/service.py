"""The webhooks' application operations: take a unit of work (writes) or a session (reads), apply the
domain's rules, call the repository; never commit (the route's `write`, the fan-out's consumer or the
delivery worker does). Errors are the domain's (services.gateway.domain.webhooks), mapped to problems
once, in the API package."""
from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any, Callable

from libs.common.auth import Principal
from libs.common.events.catalogue import WebhookEndpointDisabled

from ..domain.webhooks import (DeliveryNotFound, EndpointDisabled, EndpointNotFound, FailurePolicy, NotACouncil,
                               Stale, UrlTaken, after_attempt, check_url, new_secret, public_error, succeeded)
from . import repository

log = logging.getLogger("itp.gateway.webhooks")
Precondition = Callable[[int], bool]  # libs.common.http.Precondition: version -> held by the caller?


def _check(precondition: Precondition | None, row: dict) -> None:
    if precondition is not None and not precondition(row["version"]):
        raise Stale(row["version"])


async def _endpoint(session, principal: Principal, endpoint_id: str, *, for_update: bool = False) -> dict:
    row = await repository.get_endpoint(session, principal, endpoint_id, for_update=for_update)
    if row is None:
        raise EndpointNotFound(endpoint_id)
    return row


# --- reads ------------------------------------------------------------------------------------------------
async def endpoints(session, principal: Principal) -> list[dict]:
    return await repository.list_endpoints(session, principal)


async def endpoint(session, principal: Principal, endpoint_id: str) -> dict:
    return await _endpoint(session, principal, endpoint_id)


async def delivery_log(session, principal: Principal, endpoint_id: str, state: str | None, limit: int) -> list[dict]:
    """The endpoint's deliveries; attempts' errors as codes only (never an exception's text)."""
    await _endpoint(session, principal, endpoint_id)
    rows = await repository.deliveries(session, endpoint_id, state, limit)
    for row in rows:
        row["log"] = [{**a, "error": public_error(a["error"], a["status_code"])} for a in row["log"]]
    return rows


# --- writes -----------------------------------------------------------------------------------------------
async def register(uow, principal: Principal, *, url: str, event_types: list[str], description: str | None,
                   allow_http_localhost: bool, now: datetime) -> tuple[dict, bool]:
    """(the endpoint, created?). The same URL with the same types again is the existing endpoint (safe to
    retry); the same URL with other types is UrlTaken."""
    if not principal.is_council:
        raise NotACouncil()
    check_url(url, allow_http_localhost=allow_http_localhost)
    existing = await repository.endpoint_by_url(uow.session, principal.la_code, url)
    if existing is not None:
        if list(existing["event_types"]) == event_types and existing["description"] == description:
            return existing, False
        raise UrlTaken(existing["id"])
    row = dict(id=str(uuid.uuid4()), la_code=principal.la_code, client_id=principal.client_id, url=url,
               description=description, event_types=event_types, secret=new_secret(), active=True,
               disabled_reason=None, disabled_at=None, consecutive_failures=0, failing_since=None,
               version=1, created_at=now, updated_at=now)
    await repository.insert_endpoint(uow.session, row)
    return row, True


async def change(uow, principal: Principal, endpoint_id: str, changes: dict[str, Any],
                 precondition: Precondition | None, *, allow_http_localhost: bool, now: datetime) -> dict:
    """Changes apply to events fanned out from now on."""
    if changes.get("url") is not None:
        check_url(changes["url"], allow_http_localhost=allow_http_localhost)
    row = await _endpoint(uow.session, principal, endpoint_id, for_update=True)
    _check(precondition, row)
    if changes.get("url") and changes["url"] != row["url"]:
        clash = await repository.endpoint_by_url(uow.session, row["la_code"], changes["url"])
        if clash is not None:
            raise UrlTaken(clash["id"])
    changes = {k: v for k, v in changes.items() if v is not None or k == "description"}
    if not await repository.update_endpoint(uow.session, endpoint_id, row["version"], changes, now):
        raise Stale((await _endpoint(uow.session, principal, endpoint_id))["version"])
    return await _endpoint(uow.session, principal, endpoint_id)


async def remove(uow, principal: Principal, endpoint_id: str, precondition: Precondition | None) -> None:
    row = await _endpoint(uow.session, principal, endpoint_id, for_update=True)
    _check(precondition, row)
    await repository.delete_endpoint(uow.session, endpoint_id)


async def enable(uow, principal: Principal, endpoint_id: str, precondition: Precondition | None,
                 now: datetime) -> dict:
    row = await _endpoint(uow.session, principal, endpoint_id, for_update=True)
    _check(precondition, row)
    await repository.enable_endpoint(uow.session, endpoint_id, now)
    return await _endpoint(uow.session, principal, endpoint_id)


async def rotate_secret(uow, principal: Principal, endpoint_id: str, precondition: Precondition | None, *,
                        grace: timedelta, now: datetime) -> dict:
    row = await _endpoint(uow.session, principal, endpoint_id, for_update=True)
    _check(precondition, row)
    await repository.replace_secret(uow.session, endpoint_id, new_secret(), row["secret"], now + grace, now)
    return await _endpoint(uow.session, principal, endpoint_id)


async def redeliver(uow, principal: Principal, endpoint_id: str, delivery_id: str, now: datetime) -> dict:
    row = await _endpoint(uow.session, principal, endpoint_id, for_update=True)
    if not row["active"]:
        raise EndpointDisabled(endpoint_id)
    delivery = await repository.mark_redeliver(uow.session, endpoint_id, delivery_id, now)
    if delivery is None:
        raise DeliveryNotFound(delivery_id)
    return delivery


# --- the delivery worker's bookkeeping ---------------------------------------------------------------------
async def record_attempt(uow, row: dict, *, status_code: int | None, error: str | None, duration_ms: int,
                         schedule: list[float], policy: FailurePolicy, now: datetime) -> str:
    """Log one attempt and where the delivery stands after it; count the endpoint's failures and disable it
    past the policy. Returns the delivery's new state."""
    outcome = after_attempt(schedule, row["attempts"], status_code)
    next_at = None if outcome.retry_in is None else now + timedelta(seconds=outcome.retry_in)
    await repository.record_attempt(uow.session, row["id"], at=now, status_code=status_code, error=error,
                                    duration_ms=duration_ms, manual=row["state"] == "redeliver",
                                    state=outcome.state, next_attempt_at=next_at)
    if succeeded(status_code):
        await repository.reset_failures(uow.session, row["endpoint_id"])
    else:
        await _count_failure(uow, row["endpoint_id"], policy, now)
    return outcome.state


async def _count_failure(uow, endpoint_id: str, policy: FailurePolicy, now: datetime) -> None:
    """One more failure in a row; past the policy the endpoint is disabled, with a notice: the
    webhook_endpoint.disabled event and a log line (ids and counts only, never child data)."""
    endpoint = await repository.count_failure(uow.session, endpoint_id, now)
    if not (endpoint.active and policy.should_disable(endpoint.consecutive_failures, endpoint.failing_since, now)):
        return
    reason = (f"Disabled after {endpoint.consecutive_failures} consecutive failed deliveries "
              f"(failing since {endpoint.failing_since.isoformat()}); fix the receiver and enable it again.")
    await repository.disable_endpoint(uow.session, endpoint_id, reason, now)
    await uow.emit(WebhookEndpointDisabled(
        endpoint_id=uuid.UUID(endpoint_id), consecutive_failures=endpoint.consecutive_failures,
        failing_since=endpoint.failing_since, disabled_at=now, reason=reason),
        subject_id=endpoint_id, la_code=endpoint.la_code)
    log.warning("webhook endpoint disabled", extra={"endpoint_id": endpoint_id, "la_code": endpoint.la_code,
                                                    "consecutive_failures": endpoint.consecutive_failures})
