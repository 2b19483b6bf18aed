"""Intake: turning a council's request into a referral, exactly once per Idempotency-Key.
Used by the API and by the demo seed; HTTP concerns stay in api.py."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from libs.common.auth import Principal
from libs.common.events.catalogue import ReferralWithdrawn
from libs.common.runtime import ServiceRuntime

from . import repository as repo
from .domain.referral import check_age
from .domain.status import IllegalMove, Status, can_move, is_open
from .schemas import ReferralCreate
from .settings import ReferralSettings
from .tables import idempotency_keys, referrals


class KeyReused(Exception):
    """The Idempotency-Key was already used by this council with another body."""


class Missing(Exception):
    """No such referral for this caller (another council's is missing too)."""


class Stale(Exception):
    """The caller's copy (its ETag) is not the current version."""

    def __init__(self, current_version: int):
        super().__init__(f"current version {current_version}")
        self.current_version = current_version


class Closed(Exception):
    """The referral is decided: it can no longer be changed."""

    def __init__(self, status: str):
        super().__init__(status)
        self.status = status


Precondition = Callable[[int], bool]  # does the caller's If-Match admit this version?


@dataclass
class Intake:
    referral: dict
    created: bool  # False: a retry answered with the referral the key already made


async def refer(runtime: ServiceRuntime, settings: ReferralSettings, *, la_code: str, key: str, fingerprint: str,
                body: ReferralCreate) -> Intake:
    """Store the referral and emit referral.received in one transaction (the outbox), or answer the
    referral this council's key already made. Raises KeyReused, or AgeOutsideRange for a new referral."""
    earlier = await _earlier_use(runtime, la_code, key)
    if earlier is not None:
        return await _replay(runtime, la_code, earlier, fingerprint)
    now = datetime.now(timezone.utc)
    check_age(body.date_of_birth, body.wanted_start_date or now.date(), settings.age_min, settings.age_max)
    row = dict(id=str(uuid.uuid4()), la_code=la_code, child_ref=body.child_ref,
               date_of_birth=body.date_of_birth, sex=body.sex, legal_status=body.legal_status,
               home_outward_code=body.home_postcode, needs=[n.model_dump() for n in body.needs],
               risks=[r.model_dump() for r in body.risks], urgency=body.urgency,
               wanted_start_date=body.wanted_start_date, summary=body.summary,
               social_worker=body.social_worker.model_dump(), status=Status.received.value, version=1,
               received_at=now, updated_at=now, decided_at=None, decision_reason=None, admission_id=None)
    try:
        async with runtime.uow() as uow:
            # the key first: a concurrent request with the same key waits on this row, then fails
            await uow.session.execute(idempotency_keys.insert().values(
                la_code=la_code, key=key, body_sha256=fingerprint, referral_id=row["id"], created_at=now))
            await uow.session.execute(referrals.insert().values(**row))
            await uow.emit(repo.received_event(row), subject_id=row["id"], la_code=la_code)
            await uow.commit()
    except IntegrityError:
        earlier = await _earlier_use(runtime, la_code, key)
        if earlier is None:
            raise
        return await _replay(runtime, la_code, earlier, fingerprint)
    return Intake(row, created=True)


async def _earlier_use(runtime: ServiceRuntime, la_code: str, key: str) -> dict | None:
    async with runtime.db.session() as session:
        found = (await session.execute(select(idempotency_keys).where(
            idempotency_keys.c.la_code == la_code, idempotency_keys.c.key == key))).mappings().first()
    return dict(found) if found else None


async def _replay(runtime: ServiceRuntime, la_code: str, earlier: dict, fingerprint: str) -> Intake:
    if earlier["body_sha256"] != fingerprint:
        raise KeyReused()
    async with runtime.db.session() as session:
        row = (await session.execute(select(referrals).where(
            referrals.c.id == earlier["referral_id"], referrals.c.la_code == la_code))).mappings().one()
    return Intake(dict(row), created=False)


async def change(runtime: ServiceRuntime, settings: ReferralSettings, principal: Principal, referral_id: str,
                 values: dict, precondition: Precondition) -> dict:
    """Apply a merge patch (column values) to an open referral and emit referral.updated. A patch that
    changes nothing answers the referral as it is, whatever the precondition: a retried PATCH is harmless."""
    async with runtime.uow() as uow:
        row = await repo.get(uow.session, principal, referral_id, for_update=True)
        if row is None:
            raise Missing()
        if all(row[k] == v for k, v in values.items()):
            return row
        if not precondition(row["version"]):
            raise Stale(row["version"])
        if not is_open(row["status"]):
            raise Closed(row["status"])
        merged = {**row, **values}
        if "date_of_birth" in values or "wanted_start_date" in values:
            check_age(merged["date_of_birth"], merged["wanted_start_date"] or datetime.now(timezone.utc).date(),
                      settings.age_min, settings.age_max)
        new = await repo.save(uow.session, row, **values)
        if new is None:
            raise Stale(row["version"] + 1)
        await uow.emit(repo.updated_event(new), subject_id=row["id"], la_code=row["la_code"])
        await uow.commit()
    return new


async def withdraw(runtime: ServiceRuntime, principal: Principal, referral_id: str, reason: str,
                   precondition: Precondition | None) -> dict:
    """Withdraw an open referral and emit referral.withdrawn (with the coded reason only). Withdrawing a
    withdrawn referral answers it as it is; a decided one raises IllegalMove."""
    async with runtime.uow() as uow:
        row = await repo.get(uow.session, principal, referral_id, for_update=True)
        if row is None:
            raise Missing()
        if row["status"] == Status.withdrawn.value:
            return row
        if precondition is not None and not precondition(row["version"]):
            raise Stale(row["version"])
        if not can_move(row["status"], Status.withdrawn):
            raise IllegalMove(row["status"], Status.withdrawn)
        now = datetime.now(timezone.utc)
        new = await repo.save(uow.session, row, status=Status.withdrawn.value, decided_at=now, decision_reason=reason)
        if new is None:
            raise Stale(row["version"] + 1)
        await uow.emit(ReferralWithdrawn(referral_id=row["id"], reason=reason, withdrawn_at=now),
                       subject_id=row["id"], la_code=row["la_code"])
        await uow.commit()
    return new
