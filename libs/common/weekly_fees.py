"""The weekly fee that applies to each child, as billing tells it (`placement.fee_applied`), kept by every
service that shows it (matching on admissions, assessment on placements): one table shape, one way to keep
the newest notice, one view, one response schema.

A table of its own keyed by referral: billing's notice travels on another topic than the admission or the
placement, so it may arrive before or after the row it belongs to, and the read joins it in. The highest
`sequence` wins, so a late, redelivered or replayed notice never overwrites a newer one.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import Column, Date, Integer, MetaData, String, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from .types import UtcDateTime

WEEKLY_FEES_TABLE = "weekly_fees"


def weekly_fees_table(metadata: MetaData) -> Table:
    return Table(
        WEEKLY_FEES_TABLE, metadata,
        Column("referral_id", String(36), primary_key=True),
        Column("admission_id", String(36), nullable=True),
        Column("placement_id", String(36), nullable=True),
        Column("contract_id", String(36), nullable=True),
        Column("weekly_pence", Integer, nullable=True),
        Column("basis", String(20), nullable=False),
        Column("effective_date", Date, nullable=True),
        Column("as_of", Date, nullable=False),
        Column("sequence", Integer, nullable=False),
        Column("updated_at", UtcDateTime(), nullable=False),
        extend_existing=True,
    )


def create_weekly_fees_table(op) -> None:
    """Alembic helper: the table as defined above."""
    weekly_fees_table(MetaData()).create(op.get_bind())


class WeeklyFee(BaseModel):
    amount: str = Field(examples=["5200.00"], description="Pounds a week as a decimal string")
    currency: str = Field(examples=["GBP"])


class WeeklyFeeApplied(BaseModel):
    """Why the weekly fee is what it is, as billing told it."""
    basis: Literal["phase_1", "phase_2", "blended", "no_contract", "unpriced"] = Field(
        description="phase_1: Phase 1 enhanced assessment fee; phase_2: Phase 2 standard therapeutic fee; blended; "
                    "no_contract / unpriced: no contract or fee schedule covers the council on that day (no fee)")
    effective_from: date | None
    contract_id: uuid.UUID | None
    as_of: date = Field(description="The day billing worked the fee out for")


async def record_weekly_fee(session: AsyncSession, table: Table, payload, now: datetime) -> bool:
    """Keep a placement.fee_applied notice unless a newer one (a higher sequence) is already kept; answers
    whether it was kept."""
    values = {
        "referral_id": str(payload.referral_id),
        "admission_id": str(payload.admission_id) if payload.admission_id else None,
        "placement_id": str(payload.placement_id) if payload.placement_id else None,
        "contract_id": str(payload.contract_id) if payload.contract_id else None,
        "weekly_pence": payload.weekly_fee_pence, "basis": payload.basis, "effective_date": payload.effective_date,
        "as_of": payload.as_of, "sequence": payload.sequence, "updated_at": now}
    found = (await session.execute(select(table.c.sequence).where(
        table.c.referral_id == values["referral_id"]).with_for_update())).scalar()
    if found is None:
        await session.execute(table.insert().values(**values))
        return True
    if found >= values["sequence"]:
        return False
    await session.execute(table.update().where(table.c.referral_id == values["referral_id"]).values(**values))
    return True


async def weekly_fees_of(session: AsyncSession, table: Table, referral_ids) -> dict[str, dict]:
    ids = sorted({str(r) for r in referral_ids})
    if not ids:
        return {}
    rows = (await session.execute(select(table).where(table.c.referral_id.in_(ids)))).mappings()
    return {r["referral_id"]: dict(r) for r in rows}


def weekly_fee_view(fee: dict | None, admission_id: str | None) -> dict:
    """The fields an admission or placement shows: `weekly_fee` (money, null when none applies or billing has
    not told yet) and `weekly_fee_applied` (why: the basis, from when, under which contract; null until told).
    A notice naming another admission of the same referral is not this one's."""
    if fee is None or (fee["admission_id"] and admission_id and fee["admission_id"] != str(admission_id)):
        return {"weekly_fee": None, "weekly_fee_applied": None}
    pence = fee["weekly_pence"]
    return {"weekly_fee": None if pence is None else {"amount": f"{pence // 100}.{pence % 100:02d}",
                                                      "currency": "GBP"},
            "weekly_fee_applied": {"basis": fee["basis"], "effective_from": fee["effective_date"],
                                   "contract_id": fee["contract_id"], "as_of": fee["as_of"]}}
