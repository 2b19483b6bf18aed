"""docs/asyncapi.json is generated from the event catalogue and must not drift from it."""
import json
from pathlib import Path

from libs.common.events.asyncapi import build, render
from libs.common.events.catalogue import CATALOGUE

DOC = Path(__file__).resolve().parent.parent / "docs" / "asyncapi.json"


def test_the_published_asyncapi_document_matches_the_catalogue_in_code():
    assert DOC.read_text() == render(), "docs/asyncapi.json is stale: run `make asyncapi`"


def test_every_catalogued_event_has_a_message_a_payload_schema_and_a_channel():
    doc = build()
    names = {m["name"] for m in doc["components"]["messages"].values()}
    assert names == set(CATALOGUE)
    for spec in CATALOGUE.values():
        assert spec.payload.__name__ in doc["components"]["schemas"]
        assert any(spec.topic == ch["address"] for ch in doc["channels"].values())
    assert json.loads(render()) == doc
