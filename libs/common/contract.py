"""The OpenAPI document is the contract, and the door keeps to it: one mechanism for every app.

- `door_checks` (an app-level dependency): a GET with a query parameter its route does not declare is a
  422 naming it and the allowed ones (a misspelt filter must never answer everything); a body that is not
  JSON (missing or another content type) is a 415 naming the media types the route accepts.
- `operation_id`: clean operation ids from route names (`createReferral`, `listReferrals`), which become
  the method names of a generated client.
- `contract_document`: declares the response headers the toolkit sends (ETag, Location,
  Idempotent-Replayed, Retry-After), PATCH's application/merge-patch+json, the OAuth2 client-credentials
  scheme (tokenUrl /oauth/token) beside the bearer token, an example on every request body and a
  description on every tag.
"""
from __future__ import annotations

import email.message
import re
from typing import Any

from fastapi import Request
from fastapi.params import Form
from fastapi.routing import APIRoute

from .errors import PROBLEM_BASE, ProblemError

JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"
TOKEN_URL = "/oauth/token"
OAUTH2 = "OAuth2"

TAG_DESCRIPTIONS = {
    "auth": "OAuth2 client credentials: get an access token (POST /oauth/token) and the keys that verify it.",
    "referrals": "A council's referrals of a child: create (with Idempotency-Key), read, update (If-Match), "
                 "withdraw, and the hub's queue.",
    "matching": "The hub's ranking of homes for a referral: each option's score, reasons and exclusions.",
    "homes": "Homes and beds: onboarding, the go-live checklist, suspension, residents, and a council's view "
             "of the home its child lives in.",
    "admissions": "The hub's admission decisions and the impact risk assessment behind each.",
    "placements": "Placements: arrival, Phase 1 and 2, tasks, step-down and endings.",
    "plans": "Initial and later Pathway Plans: drafts, issue, and every issued version.",
    "reviews": "Placement reviews and their outcomes.",
    "deadlines": "Plan, task and review deadlines due soon or missed.",
    "contracts": "Placement contracts, fee schedules, add-ons and the open book.",
    "fee periods": "Monthly fee periods and their closing.",
    "invoices": "Invoices to councils and their downloads.",
    "viability": "A home's monthly costs and viability, and the ramp-up of new homes.",
    "outcomes": "Outcome measures, journeys, total cost of care and sufficiency.",
    "audit": "The access log of child records: who read or changed what, and when.",
    "webhooks": "A council's webhook endpoints (Standard Webhooks signatures), their deliveries and secrets.",
    "health": "Liveness and readiness of a process.",
}

PLACEHOLDER_EXAMPLES = {
    "date": "2026-01-15", "date-time": "2026-01-15T09:30:00Z", "email": "sam.patel@example.org",
    "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "uri": "https://example.org/itp/webhooks",
}


# ---------------------------------------------------------------- the door: query parameters, content types

def _route_facts(route: APIRoute) -> tuple[tuple[str, ...], tuple[str, ...] | None]:
    """(declared query parameter names, accepted body media types or None when the route takes no JSON body)."""
    facts = getattr(route, "_itp_facts", None)
    if facts is None:
        query = tuple(sorted(_query_names(route.dependant)))
        body = route.body_field
        media = None
        if body is not None and not isinstance(body.field_info, Form):
            media = (JSON, MERGE_PATCH) if "PATCH" in route.methods else (JSON,)
        facts = (query, media)
        route._itp_facts = facts  # type: ignore[attr-defined]
    return facts


def _query_names(dependant) -> set[str]:
    """Every query parameter a route declares, through its dependencies and query models."""
    from pydantic import BaseModel

    names: set[str] = set()
    for field in dependant.query_params:
        annotation = getattr(field.field_info, "annotation", None)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names.update(f.alias or n for n, f in annotation.model_fields.items())
        else:
            names.add(field.alias)
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def unknown_query_problem(unknown: list[str], allowed: tuple[str, ...]) -> ProblemError:
    allowed_text = ", ".join(allowed) if allowed else "none"
    errors = [{"field": f"query.{name}", "rule": "unknown_parameter",
               "message": f"{name} is not a parameter of this route; allowed: {allowed_text}"} for name in unknown]
    return ProblemError(422, "Request validation failed",
                        f"Unknown query parameter(s): {', '.join('query.' + n for n in unknown)}; "
                        f"this route allows: {allowed_text}.",
                        type_=PROBLEM_BASE + "validation-error", errors=errors, allowed=list(allowed))


def unsupported_media_problem(content_type: str | None, accepted: tuple[str, ...]) -> ProblemError:
    got = f"Content-Type {content_type}" if content_type else "no Content-Type"
    return ProblemError(415, "Unsupported Media Type",
                        f"The request body was sent with {got}; send it as {' or '.join(accepted)} "
                        f"(header Content-Type: {accepted[0]}).",
                        type_=PROBLEM_BASE + "unsupported-media-type", accepted=list(accepted),
                        errors=[{"field": "header.content-type", "rule": "media_type",
                                 "message": f"expected {' or '.join(accepted)}"}])


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


async def content_type_problem(request: Request) -> ProblemError | None:
    """415 when a route that takes a JSON body got a non-empty body that is not JSON (by its Content-Type)."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not route.include_in_schema:
        return None
    _, accepted = _route_facts(route)
    if accepted is None:
        return None
    content_type = request.headers.get("content-type")
    if _is_json(content_type) or not await request.body():
        return None
    return unsupported_media_problem(content_type, accepted)


async def door_checks(request: Request) -> None:
    """Applied to every route of every app (create_service_app). Routes outside the document (the gateway's
    catch-all proxy, docs pages) are left to whoever serves them."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not route.include_in_schema:
        return
    allowed, accepted = _route_facts(route)
    if request.method in ("GET", "HEAD"):
        unknown = sorted({name for name in request.query_params.keys() if name not in allowed})
        if unknown:
            raise unknown_query_problem(unknown, allowed)
    if accepted is not None:
        problem = await content_type_problem(request)
        if problem is not None:
            raise problem


# ---------------------------------------------------------------- operation ids

def _camel(words: list[str]) -> str:
    words = [w for w in words if w]
    return words[0].lower() + "".join(w[:1].upper() + w[1:] for w in words[1:]) if words else "operation"


def _singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def operation_id(route: APIRoute) -> str:
    """`create_referral` -> createReferral; a one-word name takes its tag's noun (`create` on webhooks ->
    createWebhook, `decide` on admissions -> decideAdmission)."""
    words = re.split(r"[^A-Za-z0-9]+", route.name)
    if len([w for w in words if w]) == 1 and route.tags:
        tag = str(route.tags[0])
        words += [_singular(w) for w in re.split(r"[^A-Za-z0-9]+", tag)]
    return _camel(words)


# ---------------------------------------------------------------- the document

def _scopes_of(dependant) -> tuple[str, ...] | None:
    scopes = getattr(dependant.call, "itp_scopes", None)
    if scopes is not None:
        return tuple(scopes)
    for sub in dependant.dependencies:
        found = _scopes_of(sub)
        if found is not None:
            return found
    return None


def _api_routes(routes) -> list:
    """The app's API routes as the document sees them (FastAPI >= 0.16x nests included routers)."""
    try:
        from fastapi.openapi.utils import _get_api_route_for_openapi
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: included routes are flat
        return [r for r in routes if isinstance(r, APIRoute)]
    found = (_get_api_route_for_openapi(context) for context in iter_route_contexts(list(routes)))
    return [r for r in found if r is not None]  # APIRoute-like: dependant, path_format, methods


def declare_scopes(document: dict, routes) -> dict:
    """Each operation's OAuth2 requirement names the scopes its Authorize(...) dependency checks, so /docs and
    a generated client show what a token needs."""
    for route in _api_routes(routes):
        if not route.include_in_schema:
            continue
        scopes = _scopes_of(route.dependant)
        if scopes is None:
            continue
        item = document.get("paths", {}).get(route.path_format, {})
        for method in route.methods:
            op = item.get(method.lower())
            if isinstance(op, dict) and op.get("security"):
                others = [req for req in op["security"] if OAUTH2 not in req]
                op["security"] = [{OAUTH2: list(scopes)}, *others]
    return document


def _resolve(schema: Any, components: dict, seen: tuple = ()) -> dict:
    while isinstance(schema, dict) and "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        if name in seen:
            return {}
        seen = seen + (name,)
        schema = components.get(name, {})
    return schema if isinstance(schema, dict) else {}


def example_of(schema: Any, components: dict, depth: int = 0, seen: tuple = ()) -> Any:
    """An example value for a JSON schema: the schema's own examples first, else a plausible value of its
    type and format. Objects hold their required properties and those with examples."""
    if isinstance(schema, dict) and "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        if name in seen or depth > 6:
            return None
        return example_of(components.get(name, {}), components, depth + 1, seen + (name,))
    if not isinstance(schema, dict):
        return None
    if schema.get("examples"):
        return schema["examples"][0]
    if "example" in schema:
        return schema["example"]
    if schema.get("default") is not None:
        return schema["default"]
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [o for o in schema[key] if o.get("type") != "null"]
            return example_of(options[0], components, depth + 1, seen) if options else None
    if "allOf" in schema:
        merged: dict = {}
        for part in schema["allOf"]:
            value = example_of(part, components, depth + 1, seen)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        out = {}
        for name, prop in props.items():
            resolved = _resolve(prop, components)
            if name in required or "examples" in prop or "examples" in resolved or "example" in resolved:
                value = example_of(prop, components, depth + 1, seen)
                if value is not None:
                    out[name] = value
        if not out and props:
            name, prop = next(iter(props.items()))
            value = example_of(prop, components, depth + 1, seen)
            if value is not None:
                out[name] = value
        return out
    if kind == "array":
        item = example_of(schema.get("items", {}), components, depth + 1, seen)
        return [] if item is None else [item]
    if kind == "string":
        if schema.get("format") in PLACEHOLDER_EXAMPLES:
            return PLACEHOLDER_EXAMPLES[schema["format"]]
        return "x" * max(int(schema.get("minLength", 0)), 1) if schema.get("minLength") else "text"
    if kind == "integer":
        return int(schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1 if "exclusiveMinimum" in schema else 1))
    if kind == "number":
        return float(schema.get("minimum", 1.0))
    if kind == "boolean":
        return True
    return None


def _header(description: str, schema: dict | None = None) -> dict:
    return {"description": description, "schema": schema or {"type": "string"}}


ETAG = _header('The record\'s version as a strong ETag, for example "3"; send it back in If-Match to change it.')
LOCATION = _header("The URL of the record created.", {"type": "string", "format": "uri-reference"})
REPLAYED = _header("true when this is the stored answer to an earlier request with the same Idempotency-Key.",
                   {"type": "string", "enum": ["true"]})
RETRY_AFTER = _header("Seconds to wait before retrying.", {"type": "string", "examples": ["5"]})


def _declare(response: dict, name: str, header: dict) -> None:
    response.setdefault("headers", {}).setdefault(name, header)


def _has_version(schema: Any, components: dict) -> bool:
    resolved = _resolve(schema, components)
    return "version" in resolved.get("properties", {})


def _response_schema(response: dict) -> Any:
    content = response.get("content", {})
    for media in (JSON, *content.keys()):
        if media in content:
            return content[media].get("schema")
    return None


def security_scheme(scopes: dict[str, str] | None = None) -> dict:
    return {"type": "oauth2", "description": "OAuth2 client credentials: your client id and secret at "
                                             f"{TOKEN_URL} (HTTP Basic or form fields) give a bearer token.",
            "flows": {"clientCredentials": {"tokenUrl": TOKEN_URL, "scopes": dict(scopes or {})}}}


def contract_document(document: dict, *, scopes: dict[str, str] | None = None) -> dict:
    """Make an app's (or the merged) document state the whole contract; safe to apply twice."""
    components = document.setdefault("components", {})
    schemas = components.get("schemas", {})
    secured = False
    used_tags: list[str] = []
    for path, item in document.get("paths", {}).items():
        for method, op in item.items():
            if not isinstance(op, dict):
                continue
            for tag in op.get("tags", []):
                if tag not in used_tags:
                    used_tags.append(tag)
            params = {p.get("name", "").lower() for p in op.get("parameters", [])}
            responses = op.setdefault("responses", {})
            # the body: merge-patch for PATCH, an example always
            body = op.get("requestBody")
            if body:
                content = body.get("content", {})
                if method == "patch" and JSON in content and MERGE_PATCH not in content:
                    content[MERGE_PATCH] = dict(content[JSON])
                for media in content.values():
                    if "example" not in media and "examples" not in media:
                        value = example_of(media.get("schema", {}), schemas)
                        if value is not None:
                            media["example"] = value
            # response headers the write toolkit sends
            for status, response in responses.items():
                if not isinstance(response, dict):
                    continue
                problem = response.get("content", {}).get("application/problem+json")
                if problem is not None and not problem.get("schema") and "Problem" in schemas:
                    problem["schema"] = {"$ref": "#/components/schemas/Problem"}
                if str(status).startswith("2"):
                    if _has_version(_response_schema(response), schemas):
                        _declare(response, "ETag", ETAG)
                    if str(status) == "201":
                        _declare(response, "Location", LOCATION)
                    if "idempotency-key" in params:
                        _declare(response, "Idempotent-Replayed", REPLAYED)
                if str(status) in ("412",) and "if-match" in params:
                    _declare(response, "ETag", ETAG)
                if str(status) in ("429", "503"):
                    _declare(response, "Retry-After", RETRY_AFTER)
            if "idempotency-key" in params:
                responses.setdefault("409", {"description": "Another request with this Idempotency-Key is still "
                                                            "running (retry after Retry-After seconds), or the "
                                                            "change conflicted with a concurrent one.",
                                             "content": {"application/problem+json": {
                                                 "schema": {"$ref": "#/components/schemas/Problem"}}}})
                _declare(responses["409"], "Retry-After", RETRY_AFTER)
            if "if-match" in params:
                responses.setdefault("412", {"description": "Your If-Match is not the current version; the "
                                                            "answer carries the current ETag.",
                                             "content": {"application/problem+json": {
                                                 "schema": {"$ref": "#/components/schemas/Problem"}}}})
                _declare(responses["412"], "ETag", ETAG)
            if not path.startswith("/health"):
                responses.setdefault("503", {"description": "A dependency is unavailable; retry after Retry-After "
                                                            "seconds.",
                                             "content": {"application/problem+json": {
                                                 "schema": {"$ref": "#/components/schemas/Problem"}}}})
                _declare(responses["503"], "Retry-After", RETRY_AFTER)
            # OAuth2 client credentials beside the bearer token, wherever a token is needed
            security = op.get("security")
            if security and not any(OAUTH2 in req for req in security):
                op["security"] = [{OAUTH2: []}, *security]
            if op.get("security"):
                secured = True
    if secured or scopes:
        existing = components.setdefault("securitySchemes", {}).get(OAUTH2)
        merged_scopes = {**(existing or {}).get("flows", {}).get("clientCredentials", {}).get("scopes", {}),
                         **(scopes or {})}
        components["securitySchemes"][OAUTH2] = security_scheme(merged_scopes)
    known = {t["name"]: t for t in document.get("tags", []) if isinstance(t, dict)}
    document["tags"] = [known.get(tag) or {"name": tag, "description": TAG_DESCRIPTIONS.get(
        tag, f"Routes of {tag}.")} for tag in used_tags] + [t for name, t in known.items() if name not in used_tags]
    return document
