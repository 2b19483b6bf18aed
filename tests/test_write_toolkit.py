"""The one write toolkit (libs/common/http) on its own, on a real database: a tiny service with one table and
one idempotent write route, on SQLite and on Postgres (where two replicas share the key store).

What every service's writes inherit: the stored answer on a replay, 422 for the key with another request,
409 while the first request is still running, nothing stored when the change fails, If-Match rules, and
the OpenAPI document declaring the headers a route requires."""
from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

import httpx
import pytest
from fastapi import APIRouter, Request
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select

from libs.common.errors import ProblemError
from libs.common.events.tables import messaging_tables
from libs.common.http import (IdempotencyKey, RequiredIfMatch, Written, idempotency_table, parse_if_match,
                              write)
from libs.common.runtime import ServiceRuntime
from libs.common.settings import Settings
from libs.common.web import create_service_app

from .support import wait_for


class Refused(Exception):
    """A domain error of the toy service."""


def _metadata() -> MetaData:
    metadata = MetaData()
    messaging_tables(metadata)
    idempotency_table(metadata)
    Table("things", metadata, Column("id", String(36), primary_key=True), Column("n", Integer, nullable=False))
    return metadata


@dataclass
class Toy:
    app: object
    client: httpx.AsyncClient
    runtime: ServiceRuntime
    gate: asyncio.Event


def _toy(settings: Settings) -> Toy:
    metadata = _metadata()
    things = metadata.tables["things"]
    gate = asyncio.Event()
    gate.set()
    router = APIRouter()

    @dataclass
    class Caller:
        client_id: str

    @router.post("/things", status_code=201)
    async def create(body: dict, request: Request, idempotency_key: IdempotencyKey = None):
        async def op(uow):
            if body.get("refuse"):
                raise Refused()
            await gate.wait()
            thing_id = str(uuid.uuid4())
            await uow.session.execute(things.insert().values(id=thing_id, n=int(body.get("n", 0))))
            return Written({"id": thing_id, "n": body.get("n", 0)}, status_code=201,
                           headers={"Location": f"/things/{thing_id}"})
        return await write(request, Caller(request.headers.get("x-client", "c1")), op, key=idempotency_key,
                           body=body)

    @router.put("/things/{thing_id}")
    async def change(thing_id: str, if_match: RequiredIfMatch):
        return {"admits_3": if_match.admits(3)}

    runtime = ServiceRuntime(settings, metadata)
    app = create_service_app(runtime, [router], title="toy", manage_runtime=False,
                             problems={Refused: lambda exc: ProblemError(409, "Refused", "the toy refuses")})
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://toy.test")
    return Toy(app, client, runtime, gate)


async def _count(toy: Toy, table: str) -> int:
    async with toy.runtime.db.session() as session:
        return (await session.execute(select(func.count()).select_from(toy.runtime.metadata.tables[table]))).scalar_one()


@pytest.fixture(params=["sqlite", "postgres"])
async def toys(request, tmp_path):
    """Two replicas of the toy service sharing one database."""
    if request.param == "sqlite":
        settings = Settings(service="referral", data_dir=tmp_path, scheduler_enabled=False, relay_enabled=False)
        made = [_toy(settings)]
    else:
        database = request.getfixturevalue("pg_database")
        settings = Settings(service="referral", database_url=f"postgresql+asyncpg://postgres@127.0.0.1:5432/{database}",
                            db_schema="public", scheduler_enabled=False, relay_enabled=False)
        made = [_toy(settings), _toy(settings)]
    async with made[0].runtime.db.engine.begin() as conn:
        await conn.run_sync(made[0].runtime.metadata.create_all)
    yield made
    for toy in made:
        await toy.client.aclose()
        await toy.runtime.db.dispose()


async def test_a_replay_answers_the_stored_response_and_another_body_is_refused(toys):
    toy = toys[0]
    first = await toy.client.post("/things", json={"n": 1}, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 201 and first.headers["location"] == f"/things/{first.json()['id']}"
    again = await toy.client.post("/things", json={"n": 1}, headers={"Idempotency-Key": "k-1"})
    assert (again.status_code, again.json(), again.headers["location"]) == (201, first.json(), first.headers["location"])
    assert again.headers["idempotent-replayed"] == "true"
    other = await toy.client.post("/things", json={"n": 2}, headers={"Idempotency-Key": "k-1"})
    assert other.status_code == 422 and other.json()["type"].endswith("/idempotency-key-reused")
    assert other.json()["errors"][0]["field"] == "header.idempotency-key"
    # keys belong to the client that sent them
    theirs = await toy.client.post("/things", json={"n": 2}, headers={"Idempotency-Key": "k-1", "x-client": "c2"})
    assert theirs.status_code == 201
    assert await _count(toy, "things") == 2


async def test_a_failed_change_stores_no_key_so_a_retry_runs_again(toys):
    toy = toys[0]
    refused = await toy.client.post("/things", json={"refuse": True}, headers={"Idempotency-Key": "k-2"})
    assert refused.status_code == 409 and refused.json()["type"].endswith("/refused")
    assert await _count(toy, "idempotent_requests") == 0
    ok = await toy.client.post("/things", json={"refuse": True}, headers={"Idempotency-Key": "k-2"})
    assert ok.status_code == 409  # ran again (not a replay of a stored answer)
    assert "idempotent-replayed" not in ok.headers


async def test_the_same_key_while_the_first_request_runs_is_409_then_the_stored_answer(toys):
    first_replica, second_replica = toys[0], toys[-1]
    first_replica.gate.clear()
    running = asyncio.create_task(first_replica.client.post("/things", json={"n": 5},
                                                            headers={"Idempotency-Key": "k-3"}))
    await asyncio.sleep(0)  # let the first request start

    async def told_in_flight():
        r = await second_replica.client.post("/things", json={"n": 5}, headers={"Idempotency-Key": "k-3"})
        return r if r.status_code == 409 else None

    busy = await wait_for(told_in_flight, timeout=10)
    assert busy.json()["type"].endswith("/idempotency-key-in-flight") and busy.headers["retry-after"] == "1"
    first_replica.gate.set()
    done = await running
    assert done.status_code == 201
    later = await second_replica.client.post("/things", json={"n": 5}, headers={"Idempotency-Key": "k-3"})
    assert later.status_code == 201 and later.json() == done.json()
    assert await _count(first_replica, "things") == 1


async def test_invalid_keys_and_if_match_headers_are_problems_naming_the_header(toys):
    toy = toys[0]
    bad = await toy.client.post("/things", json={}, headers={"Idempotency-Key": "has space"})
    assert bad.status_code == 400 and bad.json()["type"].endswith("/idempotency-key-invalid")
    missing = await toy.client.put("/things/x")
    assert missing.status_code == 428 and missing.json()["type"].endswith("/if-match-required")
    malformed = await toy.client.put("/things/x", headers={"If-Match": "3"})
    assert malformed.status_code == 400 and malformed.json()["errors"][0]["field"] == "header.if-match"
    listed = await toy.client.put("/things/x", headers={"If-Match": 'W/"2", "3"'})
    assert listed.json() == {"admits_3": True}
    document = toy.app.openapi()
    params = {p["name"]: p for p in document["paths"]["/things/{thing_id}"]["put"]["parameters"]}
    assert params["If-Match"]["required"] is True and "x-itp-required" not in params["If-Match"]["schema"]
    assert document["paths"]["/things"]["post"]["parameters"][0]["required"] is False


def test_if_match_parsing():
    assert parse_if_match("*").admits(7)
    assert parse_if_match('"1", W/"2"').tags == {"1", "2"}
    assert not parse_if_match('"1"').admits(2)
    for bad in ("1", '"1', '"1",', 'W/1'):
        with pytest.raises(ProblemError):
            parse_if_match(bad)
