"""Deadline notices: two replicas sweeping at once on Postgres send each notice exactly once, and a
later sweep sends nothing new; GET /v1/deadlines lists what is overdue per home."""
from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import select

from itp.system import app_factory, settings_for
from services.assessment.scheduled import sweep
from services.assessment.tables import deadline_notices, metadata

from .support.assessment import admit, arrive, new_home

pytestmark = pytest.mark.parametrize("system_overrides", ["kafka-postgres"], indirect=True)


async def test_two_replicas_sweeping_at_once_send_each_deadline_notice_once(sut):
    home = await new_home(sut)
    placement = await admit(sut, home)
    await arrive(sut, placement, days_ago=12)   # safety plan and soft landing overdue; network map due soon

    overdue = (await sut.client.get("/v1/deadlines", params={"home": home["id"], "state": "overdue"},
                                    headers=sut.hub())).json()["items"]
    assert {d["item"] for d in overdue} == {"safety_and_risk_plan", "soft_landing"}
    due_soon = (await sut.client.get("/v1/deadlines", params={"home": home["id"], "state": "due_soon"},
                                     headers=sut.hub())).json()["items"]
    assert {d["item"] for d in due_soon} == {"professional_network_map"}

    replicas = [sut.runtime("assessment")]
    second = app_factory("assessment")(settings_for("assessment", **sut.overrides), manage_runtime=False)
    replicas.append(second.state.runtime)
    try:
        results = await asyncio.gather(*(sweep(r) for r in replicas for _ in range(3)))
        again = await sweep(replicas[1])
    finally:
        await replicas[1].db.dispose()
    sent = [k for result in results for notice in result.values() for k in notice]
    assert len(sent) == len(set(sent)) == 3
    assert again == {"due_soon": [], "missed": []}

    outbox = metadata.tables["outbox"]
    async with sut.runtime("assessment").db.session() as session:
        events = [json.loads(r.envelope) for r in (await session.execute(
            select(outbox.c.envelope).where(outbox.c.event_type.like("deadline.%")))).all()]
        notices = (await session.execute(select(deadline_notices))).all()
    assert len(events) == len(notices) == 3
    assert sorted((e["type"], e["payload"]["item"]) for e in events) == [
        ("deadline.due_soon", "professional_network_map"), ("deadline.missed", "safety_and_risk_plan"),
        ("deadline.missed", "soft_landing")]
    assert all(e["la_code"] == "E10000018" and e["subject_id"] == placement["id"] for e in events)
