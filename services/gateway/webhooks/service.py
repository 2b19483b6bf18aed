"""The webhooks' application operations: take a unit of work (writes) or a session (reads), apply the
domain's rules, call the repository; never commit (the route's `write`, the fan-out's consumer or the
delivery worker does). Errors are the domain's (services.gateway.domain.webhooks), mapped to problems
once, in the API package."""
from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timedelta
from typing import Any, Callable

from libs.common.auth import Principal
from libs.common.events.catalogue import WebhookEndpointDisabled
from libs.common.restrictions import (RESTRICTION_EVENTS, Restricted, event_child, invoice_children,
                                      withhold_invoice_lines)

from ..domain.webhooks import (WITHHELD, DeliveryNotFound, DeliveryWithheld, EndpointDisabled, EndpointNotFound,
                               FailurePolicy, NotACouncil, Stale, UrlTaken, after_attempt, check_url, new_secret,
                               public_error, succeeded)
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
    """Sent again, unless it was withheld (DeliveryWithheld: never sent, not even after the lift) or is about a
    child whose record is under a restriction now (Restricted, answered 451 as a read of the record is)."""
    row = await _endpoint(uow.session, principal, endpoint_id, for_update=True)
    if not row["active"]:
        raise EndpointDisabled(endpoint_id)
    delivery = await repository.get_delivery(uow.session, endpoint_id, delivery_id)
    if delivery is None:
        raise DeliveryNotFound(delivery_id)
    if delivery["state"] == WITHHELD:
        raise DeliveryWithheld(delivery_id)
    if delivery["event_type"] not in RESTRICTION_EVENTS:
        child = await _child_of_delivery(uow.session, delivery)
        restriction = (await repository.restrictions_in_force(uow.session, [child])).get(child or "")
        if restriction is not None:
            raise Restricted(restriction)
    return await repository.mark_redeliver(uow.session, endpoint_id, delivery_id, now)


async def _child_of_delivery(session, delivery: dict) -> str | None:
    """The child a delivery is about: kept with it since gateway_0006; an older one's from the event it sent."""
    if delivery["referral_id"] or not delivery["body"]:
        return delivery["referral_id"]
    sent = json.loads(delivery["body"])
    child = event_child(sent["type"], sent.get("data") or {})
    if child is None:
        return None
    return child.referral_id or await repository.child_of_records(session, child.records)


# --- restrictions of processing (decision 0006): what the fan-out and the worker send a council --------------
async def child_of(session, event_type: str, data: dict, now: datetime) -> str | None:
    """The child's record (referral id) an event is about, keeping the placement and intervention links it shows.
    None for an event about no one child, and for one naming only a placement or intervention that no event seen
    by the gateway linked to a child (one that started before gateway_0006): such an event is delivered."""
    child = event_child(event_type, data)
    if child is None:
        return None
    await repository.link_child_records(session, child.links, now)
    return child.referral_id or await repository.child_of_records(session, child.records)


async def council_copy(session, event_type: str, data: dict, child: str | None) -> tuple[dict, dict | None]:
    """(the event's data as a council receives it, the restriction that withholds it from councils or None). The
    restriction events themselves always go (codes and dates only); an invoice goes whole, with a restricted
    child's lines' ids withheld (as billing serves it to the council)."""
    if event_type == "invoice.issued":
        children = invoice_children(data)
        restricted = await repository.restrictions_in_force(session, children) if children else {}
        return withhold_invoice_lines(data, set(restricted)), None
    if child is None or event_type in RESTRICTION_EVENTS:
        return data, None
    return data, (await repository.restrictions_in_force(session, [child])).get(child)


async def withhold_restricted(session, rows: list[dict], now: datetime) -> list[dict]:
    """Claimed deliveries about a child restricted since they were made are withheld (never sent); answers the
    rest. Checked at every claim, so a retry, a redelivery or an enabled endpoint's backlog is caught too."""
    about = {r["id"]: r["referral_id"] for r in rows
             if r.get("referral_id") and r["event_type"] not in RESTRICTION_EVENTS}
    if not about:
        return rows
    found = await repository.restrictions_in_force(session, about.values())
    held = {delivery_id: found[child]["restriction_id"] for delivery_id, child in about.items() if child in found}
    if not held:
        return rows
    await repository.withhold(session, held, now)
    log.info("webhook deliveries withheld for a restriction of processing", extra={"deliveries": len(held)})
    return [r for r in rows if r["id"] not in held]


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
