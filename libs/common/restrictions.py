"""Restrictions of processing on a child's record (UK GDPR article 18; docs/decisions/0006-retention.md), once for
every service: what a right-to-erasure request becomes, never a deletion.

The referral service records a restriction and emits `referral.restricted` (and `referral.restriction_lifted` when
the hub lifts it). Every other service that holds the child's record keeps its own copy of those facts in a
`restricted_children` table (`restricted_children_table`), filled by `HANDLERS`-style consumers (`consumers`),
idempotently (the restriction id is the key; a redelivery or a reordered lift changes nothing). Reads then ask
`guard` (one child's record: a council gets `Restricted`, answered 451 by every app; the hub gets the marker) or
`screen` (a listing: a council's rows of restricted children left out and counted as `restricted_omitted`; the
hub's rows marked). Councils only are refused: the hub and the homes caring for the child keep full access.
The gateway's webhooks ask `event_child` which child's record an event is about, and send a council nothing
about a restricted child (an invoice's lines go with the child withheld: `withhold_invoice_lines`)."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Collection, Iterable

from pydantic import BaseModel, Field
from sqlalchemy import JSON, Column, Date, Index, MetaData, Select, String, Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .audit import CHILD_RECORDS_HEADER
from .auth import Principal
from .errors import PROBLEM_BASE, ProblemError
from .types import UtcDateTime

RESTRICTED_TABLE = "restricted_children"


def restricted_children_table(metadata: MetaData) -> Table:
    """The one shape of a service's copy of the restrictions in force (codes only; in force while lifted_at is
    null). One row per restriction (a child may have more than one)."""
    return Table(
        RESTRICTED_TABLE, metadata,
        Column("restriction_id", String(36), primary_key=True),
        Column("referral_id", String(36), nullable=False),
        Column("reason_code", String(30), nullable=False),
        Column("requested_on", Date, nullable=True),
        Column("scope", JSON, nullable=False),
        Column("recorded_at", UtcDateTime(), nullable=False),
        Column("lifted_at", UtcDateTime(), nullable=True),
        Index("ix_restricted_children_referral", "referral_id"),
        extend_existing=True,
    )


def create_restricted_children_table(op) -> None:
    """Alembic helper: create the table as defined above."""
    restricted_children_table(MetaData()).create(op.get_bind())


class Restricted(Exception):
    """A council asked for a child's record that is under a restriction of processing: served to the hub only.
    Every app answers it 451 (install_problem_handlers), naming the reason and the date, never the record."""

    def __init__(self, restriction: dict):
        super().__init__(restriction["reason_code"])
        self.restriction = restriction


def restricted_problem(exc: Restricted) -> ProblemError:
    r = exc.restriction
    requested_on = r.get("requested_on")
    # the child's record named to the gateway's access log (which strips the header): the refusal is audited
    # against the child whatever the path named (a placement, an intervention, a measure)
    child = r.get("referral_id")
    return ProblemError(451, "Unavailable For Legal Reasons",
                        "This child's record is under a restriction of processing; only the hub may read it.",
                        type_=PROBLEM_BASE + "restricted", reason_code=r["reason_code"],
                        headers={CHILD_RECORDS_HEADER: str(child)} if child else None,
                        requested_on=requested_on.isoformat() if requested_on is not None else None,
                        restriction_id=str(r.get("id") or r.get("restriction_id")))


def marker(r: dict | None) -> dict | None:
    """The hub's marker of a restricted record (None when no restriction is in force)."""
    if r is None:
        return None
    return dict(id=str(r.get("id") or r.get("restriction_id")), reason_code=r["reason_code"],
                requested_on=r.get("requested_on"), scope=list(r.get("scope") or []))


# --- the consumers' side --------------------------------------------------------------------------------------
async def record_restricted(session: AsyncSession, table: Table, payload: Any) -> bool:
    """referral.restricted: keep the restriction (once; a redelivery, or one arriving after its lift, changes
    nothing). Answers whether a row was written."""
    rid = str(payload.restriction_id)
    if (await session.execute(select(table.c.restriction_id).where(table.c.restriction_id == rid))).first():
        return False
    await session.execute(table.insert().values(
        restriction_id=rid, referral_id=str(payload.referral_id), reason_code=payload.reason_code,
        requested_on=payload.requested_on, scope=list(payload.scope), recorded_at=payload.recorded_at,
        lifted_at=None))
    return True


async def record_lifted(session: AsyncSession, table: Table, payload: Any) -> bool:
    """referral.restriction_lifted: mark it lifted (once). A lift that arrives before its restriction is kept as
    a lifted row, so the late restriction does not bring it back into force."""
    rid = str(payload.restriction_id)
    found = (await session.execute(select(table.c.lifted_at).where(table.c.restriction_id == rid))).first()
    if found is None:
        await session.execute(table.insert().values(
            restriction_id=rid, referral_id=str(payload.referral_id), reason_code=payload.reason_code,
            requested_on=None, scope=[], recorded_at=payload.lifted_at, lifted_at=payload.lifted_at))
        return True
    if found[0] is not None:
        return False
    await session.execute(update(table).where(table.c.restriction_id == rid).values(lifted_at=payload.lifted_at))
    return True


RESTRICTION_EVENTS = frozenset({"referral.restricted", "referral.restriction_lifted"})


def consumers(table: Table, then=None) -> dict:
    """The two handlers a service adds to its HANDLERS to keep `table` (its restricted_children) current.
    `then`: a handler that also takes both events, run after the table is kept, in the same unit of work (the
    gateway fans them out to councils' webhooks)."""
    async def on_restricted(uow, event, payload) -> None:
        await record_restricted(uow.session, table, payload)
        if then is not None:
            await then(uow, event, payload)

    async def on_lifted(uow, event, payload) -> None:
        await record_lifted(uow.session, table, payload)
        if then is not None:
            await then(uow, event, payload)

    return {"referral.restricted": on_restricted, "referral.restriction_lifted": on_lifted}


# --- the reads' side ------------------------------------------------------------------------------------------
@functools.cache
def _in_force_statement(table: Table) -> Select:
    """in_force()'s statement for a table, built once (every read of a child's record runs it: building it and its
    cache key each time cost more CPU than running it)."""
    return (select(table).where(table.c.referral_id.in_(bindparam("referral_ids", expanding=True)),
                                table.c.lifted_at.is_(None)).order_by(table.c.recorded_at))


async def in_force(session: AsyncSession, table: Table, referral_ids: Iterable[str | None]) -> dict[str, dict]:
    """The first restriction in force of each of these children that has one."""
    ids = sorted({str(i) for i in referral_ids if i})
    if not ids:
        return {}
    rows = (await session.execute(_in_force_statement(table), {"referral_ids": ids})).mappings().all()
    found: dict[str, dict] = {}
    for r in rows:
        found.setdefault(r["referral_id"], dict(r))
    return found


async def guard(session: AsyncSession, table: Table, principal: Principal, referral_id: str | None) -> dict | None:
    """One child's record: raises Restricted for a council when a restriction is in force; answers the hub's
    marker otherwise (None when there is none)."""
    if not referral_id:
        return None
    r = (await in_force(session, table, [referral_id])).get(str(referral_id))
    if r is not None and principal.is_council:
        raise Restricted(r)
    return marker(r)


async def screen(session: AsyncSession, table: Table, principal: Principal, rows: list[dict],
                 key: str = "referral_id") -> tuple[list[dict], dict[str, dict], int]:
    """A listing: (the rows the caller is served, the hub's marker per referral id, how many rows a council's
    listing left out)."""
    restricted = await in_force(session, table, [r.get(key) for r in rows])
    if not restricted:
        return rows, {}, 0
    if principal.is_council:
        kept = [r for r in rows if str(r.get(key)) not in restricted]
        return kept, {}, len(rows) - len(kept)
    return rows, {k: marker(v) for k, v in restricted.items()}, 0


async def restricted_ids(session: AsyncSession, table: Table, referral_ids: Iterable[str | None] | None = None
                         ) -> set[str]:
    """The children under a restriction in force (among these, when given)."""
    if referral_ids is not None:
        return set(await in_force(session, table, referral_ids))
    rows = (await session.execute(select(table.c.referral_id).where(table.c.lifted_at.is_(None)))).all()
    return {r[0] for r in rows}


def now() -> datetime:
    return datetime.now(timezone.utc)


def withhold(row: dict, keys: Iterable[str]) -> dict:
    """A row kept whole for a council (an invoice line: the money is still owed) with what names a restricted child
    withheld (the keys null) and said (`child_withheld`)."""
    return {**row, **{k: None for k in keys}, "child_withheld": True}


# --- which child's record an event is about (the gateway's webhooks) -------------------------------------------
# A council's webhooks must not carry a restricted child's events any more than its reads do (decision 0006). Most
# events name the child's record (referral_id); the rest name one of the child's records: a placement (placement
# and plan events, deadlines) or an outreach intervention (sessions, follow-up deadlines), which an earlier event
# of the same child linked to the referral (placement.started, intervention.started and every event naming both).
# Events about no one child: no council (a home onboarded, a fee period closed), a council's own webhook endpoint,
# and a council's invoice, which is whole (the money is owed) and withholds a restricted child's lines' ids.
NOT_ABOUT_ONE_CHILD = frozenset({"home.onboarded", "fee_period.closed", "webhook_endpoint.disabled",
                                 "invoice.issued"})
CHILD_RECORD_KEYS = ("placement_id", "intervention_id")
INVOICE_LINE_CHILD_KEYS = ("referral_id", "placement_id", "intervention_id")


@dataclass(frozen=True)
class EventChild:
    """Whose record an event is about. `referral_id` when the event names it; otherwise `records`, the placement or
    intervention ids it names (to look up in the links); `links`, the (record id, referral id) pairs the event
    itself shows (an event naming both)."""
    referral_id: str | None = None
    records: tuple[str, ...] = ()
    links: tuple[tuple[str, str], ...] = ()


def event_child(event_type: str, data: dict) -> EventChild | None:
    """The child an event (its type and payload, as JSON) is about; None for an event about no one child."""
    if event_type in NOT_ABOUT_ONE_CHILD:
        return None
    referral = data.get("referral_id")
    records = tuple(str(data[k]) for k in CHILD_RECORD_KEYS if data.get(k))
    if referral:
        return EventChild(str(referral), (), tuple((r, str(referral)) for r in records))
    return EventChild(None, records)


def invoice_children(data: dict) -> set[str]:
    """The children an invoice.issued payload's lines name."""
    return {str(line["referral_id"]) for line in data.get("lines") or () if line.get("referral_id")}


def withhold_invoice_lines(data: dict, restricted: Collection[str]) -> dict:
    """invoice.issued for a council: every line and amount kept, a restricted child's lines' ids withheld."""
    if not restricted or not data.get("lines"):
        return data
    return {**data, "lines": [withhold(line, INVOICE_LINE_CHILD_KEYS)
                              if str(line.get("referral_id")) in restricted else line for line in data["lines"]]}


# --- the answers' side (pydantic) -----------------------------------------------------------------------------


class RestrictionMarker(BaseModel):
    """The hub's marker on a restricted child's record: the restriction in force, as codes."""
    id: str
    reason_code: str
    requested_on: date | None = None
    scope: list[str] = []


RESTRICTION_FIELD = Field(default=None, description="The hub's view: the restriction of processing in force on the "
                                                    "child's record (decision 0006); a council never sees a "
                                                    "restricted child's record (451)")


def _none_left_out(count: int | None) -> bool:
    return not count


class OmitsRestricted(BaseModel):
    """A listing that may leave out a council's rows of restricted children: `restricted_omitted` says how many,
    and is absent when none were, so a list keeps its {items, next_cursor} shape for everyone else (one rule for
    every service's lists). Left out by the field's own `exclude_if`, not a wrap serializer on the page: that
    made pydantic build the whole page as Python objects before writing its JSON (34 against 13 us for a page of
    20 small rows)."""
    restricted_omitted: int | None = Field(default=None, exclude_if=_none_left_out, description=(
        "A council's listing, when some rows were left out because the child's record is under a restriction of "
        "processing (decision 0006): how many (each answers 451 when read). Absent otherwise"))
