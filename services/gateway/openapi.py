"""One merged OpenAPI document for the whole API, from each service's own document."""
from __future__ import annotations

import copy
import json
from typing import Any


def _rewrite_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/components/schemas/"):
                name = value.rsplit("/", 1)[1]
                out[key] = f"#/components/schemas/{renames.get(name, name)}"
            else:
                out[key] = _rewrite_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v, renames) for v in node]
    return node


def merge(documents: dict[str, dict], *, title: str, version: str, description: str) -> dict:
    """Merge per-service documents. A schema name used by two services with different shapes is
    prefixed with the service's name so that neither overwrites the other."""
    merged: dict[str, Any] = {"openapi": "3.1.0", "info": {"title": title, "version": version,
                                                           "description": description},
                              "paths": {}, "components": {"schemas": {}}, "tags": []}
    schemas = merged["components"]["schemas"]
    for service, doc in documents.items():
        doc = copy.deepcopy(doc)
        own = doc.get("components", {}).get("schemas", {})
        renames = {}
        for name, schema in own.items():
            if name in schemas and json.dumps(schemas[name], sort_keys=True) != json.dumps(schema, sort_keys=True):
                renames[name] = f"{service.capitalize()}{name}"
        doc = _rewrite_refs(doc, renames)
        for name, schema in doc.get("components", {}).get("schemas", {}).items():
            schemas[renames.get(name, name)] = schema
        for key, value in doc.get("components", {}).items():
            if key != "schemas":
                merged["components"].setdefault(key, {}).update(value)
        for tag in doc.get("tags", []):
            if tag.get("name") not in {t["name"] for t in merged["tags"]}:
                merged["tags"].append(tag)
        for path, item in doc.get("paths", {}).items():
            if path.startswith("/health"):
                continue
            target = merged["paths"].setdefault(path, {})
            for method, op in item.items():
                op.setdefault("tags", [service])
                target[method] = op
    merged["paths"] = dict(sorted(merged["paths"].items()))
    _unique_operation_ids(merged)
    return merged


def _unique_operation_ids(document: dict) -> None:
    """Operation ids are unique across the merged document (a generated client's method names): a second
    service's id that clashes is prefixed with its first tag."""
    seen: set[str] = set()
    for item in document["paths"].values():
        for op in item.values():
            if not isinstance(op, dict) or "operationId" not in op:
                continue
            op_id = op["operationId"]
            if op_id in seen:
                tag = "".join(w.capitalize() for w in str((op.get("tags") or ["other"])[0]).split())
                op_id = op["operationId"] = f"{op_id}{tag}"
            seen.add(op_id)
