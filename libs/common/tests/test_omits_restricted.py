"""libs.common.restrictions.OmitsRestricted: a list's `restricted_omitted` is there only when a council's rows
were left out (decision 0006), in the JSON a service answers with and in a Python dump, and the schema clients
are generated from still lists it (optional)."""
from __future__ import annotations

import json

from pydantic import BaseModel, TypeAdapter

from libs.common.pagination import Page
from libs.common.restrictions import OmitsRestricted


class Row(BaseModel):
    id: str
    needs: list[dict]


class RowPage(Page[Row], OmitsRestricted):
    pass


ROWS = [Row(id=str(i), needs=[{"code": "mental_health", "severity": "high"}]) for i in range(3)]


def test_absent_when_none_were_left_out_and_present_with_how_many_otherwise():
    adapter = TypeAdapter(RowPage)
    for none_left in (RowPage(items=ROWS, next_cursor=None), RowPage(items=ROWS, next_cursor="c", restricted_omitted=0)):
        body = json.loads(adapter.dump_json(none_left))
        assert "restricted_omitted" not in body and set(body) == {"items", "next_cursor"}
        assert "restricted_omitted" not in none_left.model_dump()
        assert body["items"][0] == {"id": "0", "needs": [{"code": "mental_health", "severity": "high"}]}
    some = RowPage(items=ROWS[:1], next_cursor=None, restricted_omitted=2)
    assert json.loads(adapter.dump_json(some))["restricted_omitted"] == 2
    assert some.model_dump()["restricted_omitted"] == 2


def test_the_schema_still_offers_the_field():
    schema = TypeAdapter(RowPage).json_schema(mode="serialization")
    assert "restricted_omitted" in schema["properties"] and "restricted_omitted" not in schema.get("required", [])
