"""RFC 9457 problem details for every app.

Validation problems list each failing field by its path (for example body.child.date_of_birth)
and the rule it broke, so a council's integration team can fix the request without guessing.
"""
from __future__ import annotations

import logging
import re
from typing import Any, Callable, Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://itp.example.org/problems/"
log = logging.getLogger("itp.errors")


class FieldError(BaseModel):
    field: str = Field(examples=["body.date_of_birth"])
    rule: str = Field(examples=["date_from_datetime_parsing"])
    message: str
    value: Any = Field(default=None, description="A value outside a closed list: the value sent")
    allowed: list[str] | None = Field(default=None, description="A value outside a closed list: the values allowed")


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = Field(examples=[PROBLEM_BASE + "validation-error"])
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = None
    model_config = {"extra": "allow"}


class ProblemError(Exception):
    """Raise anywhere below an endpoint to answer with a problem document."""

    def __init__(self, status: int, title: str, detail: str | None = None, *, type_: str | None = None,
                 headers: dict[str, str] | None = None, **extra: Any):
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type_ or problem_type(title)
        self.headers = headers
        self.extra = extra


class Missing(Exception):
    """An application operation's answer that there is no such record for this caller (another council's
    record, or a home manager's other home, is missing in the same way). Every app answers it 404."""

    def __init__(self, what: str = "record"):
        super().__init__(what)
        self.what = what


class Stale(Exception):
    """An application operation's answer that the caller's If-Match does not admit the version it holds under
    the row lock. Every app answers it 412 with the current ETag."""

    def __init__(self, current_version: int, what: str = "record"):
        super().__init__(f"current version {current_version}")
        self.current_version = current_version
        self.what = what


class NotFound(ProblemError):
    def __init__(self, what: str = "resource"):
        super().__init__(404, "Not Found", f"No such {what}.", type_=PROBLEM_BASE + "not-found")


class Conflict(ProblemError):
    def __init__(self, detail: str, **extra: Any):
        super().__init__(409, "Conflict", detail, type_=PROBLEM_BASE + "conflict", **extra)


def problem_type(title: str) -> str:
    """The type URI of a problem named by its title (every problem carries one, never about:blank)."""
    return PROBLEM_BASE + re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def field_problem(field: str, rule: str, message: str, **closed_list: Any) -> ProblemError:
    """422 naming one field (for example body.date_of_birth) and the rule it broke (and, for a value outside a
    closed list, `value` and `allowed`)."""
    return ProblemError(422, "Request validation failed", f"Invalid fields: {field} ({rule})",
                        type_=PROBLEM_BASE + "validation-error",
                        errors=[{"field": field, "rule": rule, "message": message,
                                 **{k: v for k, v in closed_list.items() if v is not None}}])


ProblemMapper = Callable[[Exception], ProblemError]
"""Maps a domain error to its problem; an app registers one per domain error type, once."""


def problem_response(status: int, title: str, detail: str | None = None, *, type_: str | None = None,
                     instance: str | None = None, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": type_ or problem_type(title), "title": title, "status": status}
    if detail is not None:
        body["detail"] = detail
    if instance is not None:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def validation_errors(exc_errors: list[dict[str, Any]], body_type: Any = None) -> list[dict[str, Any]]:
    """Each failing field by its path, its rule, and a message that teaches: the expected format (a date is
    YYYY-MM-DD), shape (an object {code, severity}) or allowed values, from pydantic's context and the body's
    model."""
    out = []
    for err in exc_errors:
        loc = [str(p) for p in err.get("loc", ())]
        message = err.get("msg", "")
        hint = _teaching_hint(err, body_type)
        if hint and hint not in message:
            message = f"{message}; {hint}" if message else hint
        item = {"field": ".".join(loc) or "body", "rule": err.get("type", "invalid"), "message": message}
        ctx = err.get("ctx") or {}
        if isinstance(ctx.get("allowed"), list):  # a closed list (for example a data standard's options)
            item.update(value=ctx.get("value"), allowed=[str(a) for a in ctx["allowed"]])
        out.append(item)
    return out


_DATE_HINT = "expected a date as YYYY-MM-DD, for example 2012-03-14"
_DATETIME_HINT = "expected a date and time in ISO 8601 with its offset, for example 2026-01-15T09:30:00Z"
_FORMAT_HINTS = {
    "date": _DATE_HINT, "datetime": _DATETIME_HINT, "uuid": "expected a UUID such as 3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "time": "expected a time as HH:MM[:SS], for example 09:30", "json": "the body must be valid JSON",
}


def _unwrap(annotation: Any) -> Any:
    """Optional[X] / Annotated[X, ...] -> X."""
    import types
    import typing

    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def _type_at(body_type: Any, loc: list[Any]) -> Any:
    """The declared type at a validation error's location inside the body (None when unknown)."""
    import typing

    current = body_type
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part)) or next(
                (f for f in current.model_fields.values() if f.alias == str(part)), None)
            if field is None:
                return None
            current = field.annotation
        elif typing.get_origin(current) in (list, tuple, set, frozenset) or typing.get_origin(current) is typing.Sequence:
            args = typing.get_args(current)
            current = args[0] if args else None
        elif typing.get_origin(current) is dict:
            args = typing.get_args(current)
            current = args[1] if len(args) == 2 else None
        else:
            return None
    return _unwrap(current)


def _shape(model: type[BaseModel]) -> str:
    names = [(f.alias or name) + ("" if f.is_required() else "?") for name, f in model.model_fields.items()]
    return "{" + ", ".join(names) + "}"


def _teaching_hint(err: dict[str, Any], body_type: Any) -> str | None:
    kind = str(err.get("type", ""))
    ctx = err.get("ctx") or {}
    loc = list(err.get("loc", ()))
    in_body = bool(loc) and loc[0] == "body"
    declared = _type_at(body_type, loc[1:]) if in_body and body_type is not None else None
    if kind.startswith("date_") or kind == "date_type":
        return _DATE_HINT
    if kind.startswith("datetime_") or kind == "timezone_aware":
        return _DATETIME_HINT
    if kind.startswith("uuid"):
        return _FORMAT_HINTS["uuid"]
    if kind.startswith("time_"):
        return _FORMAT_HINTS["time"]
    if kind in ("literal_error", "enum") and ctx.get("expected"):
        return f"allowed values: {ctx['expected']}"
    if kind == "string_pattern_mismatch" and ctx.get("pattern"):
        return f"expected text matching the pattern {ctx['pattern']}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        if isinstance(declared, type) and issubclass(declared, BaseModel):
            return f"expected an object {_shape(declared)}"
        return "expected a JSON object"
    if kind in ("list_type", "tuple_type", "set_type"):
        import typing

        item = None
        if declared is not None and typing.get_args(declared):
            item = _unwrap(typing.get_args(declared)[0])
        if isinstance(item, type) and issubclass(item, BaseModel):
            return f"expected a list of objects {_shape(item)}"
        return "expected a JSON list"
    if kind == "extra_forbidden" and in_body and body_type is not None:
        parent = _type_at(body_type, loc[1:-1])
        if isinstance(parent, type) and issubclass(parent, BaseModel):
            return f"allowed fields: {', '.join(f.alias or n for n, f in parent.model_fields.items())}"
    if kind == "missing" and loc == ["body"]:
        return "send a JSON body"
    if kind == "missing" and declared is not None and isinstance(declared, type) and issubclass(declared, BaseModel):
        return f"expected an object {_shape(declared)}"
    if kind == "json_invalid":
        return f"the body must be valid JSON ({ctx.get('error')})" if ctx.get("error") else _FORMAT_HINTS["json"]
    return None


def _body_type(request: Request) -> Any:
    route = request.scope.get("route")
    body = getattr(route, "body_field", None)
    return getattr(getattr(body, "field_info", None), "annotation", None) if body is not None else None


def install_problem_handlers(app: FastAPI, problems: Mapping[type[Exception], ProblemMapper] | None = None) -> None:
    """Problem documents for every error an app can raise: ProblemError, request validation, HTTP errors,
    the app's own domain errors (`problems`: one mapper per type, registered here once), unique-key races
    (409), the database being unavailable (503 with Retry-After) and anything else (500). Errors are logged
    by type, statement and frames, never by message or arguments, and always with the request id."""
    from sqlalchemy.exc import IntegrityError

    from .http.preconditions import stale
    from .restrictions import Restricted, restricted_problem

    defaults: dict[type[Exception], ProblemMapper] = {
        Missing: lambda exc: NotFound(exc.what),
        Restricted: restricted_problem,
        Stale: lambda exc: stale(exc.current_version, exc.what),
    }
    for exc_type, mapper in {**defaults, **(problems or {})}.items():
        def _handler(request: Request, exc: Exception, mapper=mapper):
            problem = mapper(exc)
            return problem_response(problem.status, problem.title, problem.detail, type_=problem.type,
                                    instance=request.url.path, headers=problem.headers, **problem.extra)
        app.add_exception_handler(exc_type, _handler)

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError):
        return problem_response(409, "Conflict", "The change conflicted with a concurrent one; read the record "
                                "again and retry.", type_=PROBLEM_BASE + "conflict", instance=request.url.path)

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError):
        return problem_response(exc.status, exc.title, exc.detail, type_=exc.type, instance=request.url.path,
                                headers=exc.headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        from .contract import content_type_problem

        wrong_media = await content_type_problem(request)
        if wrong_media is not None:  # a body that is not JSON is a 415, whatever else is wrong
            return problem_response(wrong_media.status, wrong_media.title, wrong_media.detail, type_=wrong_media.type,
                                    instance=request.url.path, **wrong_media.extra)
        errors = validation_errors(list(exc.errors()), _body_type(request))
        fields = ", ".join(f"{e['field']} ({e['rule']})" for e in errors[:5])
        return problem_response(422, "Request validation failed", f"Invalid fields: {fields}",
                                type_=PROBLEM_BASE + "validation-error", instance=request.url.path, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        title = {404: "Not Found", 405: "Method Not Allowed", 401: "Unauthorized", 403: "Forbidden"}.get(
            exc.status_code, "HTTP error")
        detail = exc.detail if isinstance(exc.detail, str) else None
        return problem_response(exc.status_code, title, detail, type_=problem_type(title), instance=request.url.path,
                                headers=getattr(exc, "headers", None))

    from sqlalchemy.exc import DBAPIError, PendingRollbackError, TimeoutError as PoolTimeoutError

    async def _database(request: Request, exc: Exception):
        """A database error: 503 with Retry-After when the database is unavailable (the caller may retry),
        otherwise the unhandled-error answer. Neither the statement's parameters nor the request's body
        reach the answer or the log."""
        return unhandled_error_response(exc, request.url.path)

    for exc_type in (DBAPIError, PoolTimeoutError, PendingRollbackError, OSError, *_driver_unavailable_errors()):
        app.add_exception_handler(exc_type, _database)

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception):
        # Starlette runs this outermost, outside the request-context middleware (which answers most unhandled
        # errors itself): put the request's ids back for the log line
        from .observability import correlation_id_var, request_id_var

        state = request.scope.get("state") or {}
        tokens = (request_id_var.set(state.get("request_id") or request_id_var.get()),
                  correlation_id_var.set(state.get("correlation_id") or correlation_id_var.get()))
        try:
            return unhandled_error_response(exc, request.url.path)
        finally:
            correlation_id_var.reset(tokens[1])
            request_id_var.reset(tokens[0])


DATABASE_RETRY_AFTER_SECONDS = 2


def _driver_unavailable_errors() -> tuple[type[Exception], ...]:
    try:
        import asyncpg
    except ImportError:  # pragma: no cover - asyncpg is a dependency
        return ()
    return (asyncpg.exceptions.PostgresConnectionError, asyncpg.exceptions.InterfaceError,
            asyncpg.exceptions.OperatorInterventionError, asyncpg.exceptions.InsufficientResourcesError)


def unhandled_error_response(exc: BaseException, path: str | None) -> JSONResponse:
    """The answer to an error nothing else handled: 503 (Retry-After) when the database is unavailable,
    else 500. Logged by type, SQL statement and frames only (libs.common.observability), never by message."""
    from .db import is_unavailable
    from .observability import log_unhandled

    if is_unavailable(exc):
        log.warning("database unavailable; answered 503", extra={"path": path, "exc_type": type(exc).__name__})
        return problem_response(503, "Service Unavailable", "The service cannot reach its database (or another dependency) just now; "
                                "retry after a short wait.", type_=PROBLEM_BASE + "service-unavailable",
                                instance=path, headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)})
    log_unhandled(exc, path)
    return problem_response(500, "Internal Server Error", "An unexpected error occurred; it has been logged.",
                            type_=PROBLEM_BASE + "internal-error", instance=path)


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": Problem, "content": {PROBLEM_JSON: {}}, "description": "A problem document (RFC 9457)"},
}
