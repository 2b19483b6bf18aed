"""Generate the AsyncAPI 3.0 document of the event catalogue: `python -m libs.common.events.asyncapi`.

docs/asyncapi.json is this module's output; tests/test_asyncapi.py fails when the two drift apart.
"""
from __future__ import annotations

import json

from pydantic.json_schema import models_json_schema

from .catalogue import CATALOGUE, TOPICS, dead_letter_topic
from .envelope import EventEnvelope


def _message_name(event_type: str) -> str:
    return "".join(part.capitalize() for part in event_type.replace("_", ".").split("."))


def build() -> dict:
    models = [(spec.payload, "validation") for spec in CATALOGUE.values()] + [(EventEnvelope, "validation")]
    keys, defs = models_json_schema(models, ref_template="#/components/schemas/{model}")
    schemas = dict(sorted(defs.get("$defs", {}).items()))
    channels: dict = {}
    for topic in TOPICS:
        specs = [s for s in CATALOGUE.values() if s.topic == topic]
        channels[topic] = {
            "address": topic,
            "description": "Keyed by the aggregate id (the envelope's subject_id).",
            "messages": {_message_name(s.type): {"$ref": f"#/components/messages/{_message_name(s.type)}"}
                         for s in specs},
        }
    channels["dead-letter"] = {
        "address": dead_letter_topic("{service}"),
        "description": "Events a service's consumer could not handle after its retries, with headers "
                       "error, attempts, original_topic and consumer; replay with `itp events replay --dead-letter SERVICE`.",
        "parameters": {"service": {"description": "The consuming service"}},
    }
    messages = {}
    for spec in CATALOGUE.values():
        name = _message_name(spec.type)
        messages[name] = {
            "name": spec.type,
            "title": spec.type,
            "summary": spec.summary,
            "contentType": "application/json",
            "headers": {"type": "object", "properties": {"event_type": {"const": spec.type}}},
            "payload": {
                "allOf": [{"$ref": "#/components/schemas/EventEnvelope"}],
                "properties": {"type": {"const": spec.type}, "version": {"const": spec.version},
                               "payload": {"$ref": f"#/components/schemas/{spec.payload.__name__}"}},
            },
        }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "Integrated Therapeutic Pathway events", "version": "1.0.0",
                 "description": "Every event travels in the EventEnvelope; no payload carries a child's name."},
        "defaultContentType": "application/json",
        "channels": channels,
        "components": {"messages": messages, "schemas": schemas},
    }


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=False) + "\n"


if __name__ == "__main__":
    print(render(), end="")
