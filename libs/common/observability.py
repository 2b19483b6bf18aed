"""JSON logs that carry the request id and correlation id, and the middleware that sets them.

Never log a child's name or free text about a child: log ids only. An exception is logged as its type, the
SQL statement it ran (never the parameters: every engine hides them), its SQLSTATE and the frames of its
traceback: never its message, which may quote data (asyncpg's DETAIL repeats a row's values, pydantic's
errors repeat the input), and never the locals or arguments of a frame.
"""
from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
import traceback
import uuid
from datetime import datetime, timezone

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
correlation_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)
service_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("service", default=None)

_STD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": datetime.fromtimestamp(record.created, tz=timezone.utc).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "service": service_var.get(),
            "request_id": request_id_var.get(),
            "correlation_id": correlation_id_var.get(),
        }
        for key, value in record.__dict__.items():
            if key not in _STD and not key.startswith("_"):
                out[key] = value
        if record.name == "asyncio":
            # asyncio's "exception was never retrieved" lines append the repr of the task and its exception
            out["msg"] = out["msg"].split("\n", 1)[0]
        if record.exc_info and record.exc_info[1] is not None:
            out["exc_type"] = _qualname(type(record.exc_info[1]))
            out["exc"] = format_exception_safely(record.exc_info[1])
        if record.stack_info:
            out["stack"] = record.stack_info
        return json.dumps(out, default=str)

    def formatException(self, ei) -> str:  # noqa: N802 - logging's name
        return format_exception_safely(ei[1]) if ei and ei[1] is not None else ""


class PlainFormatter(logging.Formatter):
    """Plain-text lines (ITP_LOG_JSON=false) with the same rule: an exception's type, statement and frames,
    never its message."""

    def format(self, record: logging.LogRecord) -> str:
        record.exc_text = None  # never reuse a traceback another formatter wrote with the message in it
        return super().format(record)

    def formatException(self, ei) -> str:  # noqa: N802 - logging's name
        return format_exception_safely(ei[1]) if ei and ei[1] is not None else ""


def _qualname(cls: type) -> str:
    module = cls.__module__
    return cls.__qualname__ if module in ("builtins", "__main__") else f"{module}.{cls.__qualname__}"


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a database error (the exception, its driver error or that one's cause), if any."""
    for candidate in (exc, getattr(exc, "orig", None), getattr(getattr(exc, "orig", None), "__cause__", None)):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if isinstance(code, str):
            return code
    return None


def format_exception_safely(exc: BaseException, *, max_chain: int = 5) -> str:
    """A traceback without data: for the exception and each cause, the frames (file, line, function and the
    line of code) and the type; for a database error also its SQL statement (no parameters) and SQLSTATE.
    The message is left out: it may quote the values the statement or the request carried."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain and len(chain) < max_chain:
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    parts: list[str] = []
    for i, item in enumerate(reversed(chain)):
        if i:
            parts.append("The above exception led to the following one:\n")
        if item.__traceback__ is not None:
            parts.append("Traceback (most recent call last):\n")
            parts.extend(traceback.StackSummary.from_list(
                [(f.filename, f.lineno, f.name, f.line) for f in traceback.extract_tb(item.__traceback__)]).format())
        line = f"{_qualname(type(item))} (message withheld: it may carry data)"
        code = sqlstate(item)
        if code:
            line += f" sqlstate={code}"
        statement = getattr(item, "statement", None)
        if isinstance(statement, str):
            line += f"\n[SQL: {statement[:2000]}]"
        parts.append(line + "\n")
    return "".join(parts).rstrip("\n")


def configure_logging(level: str = "INFO", json_logs: bool = True) -> None:
    root = logging.getLogger()
    if getattr(root, "_itp_configured", False):
        root.setLevel(level)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_logs else PlainFormatter("%(levelname)s %(name)s %(message)s"))
    root.handlers = [handler]
    root.setLevel(level)
    root._itp_configured = True  # type: ignore[attr-defined]
    # aiosqlite logs every statement with its parameters at DEBUG: child data must never reach a log line.
    # SQLAlchemy names a pool's logger after its class, and libs.common.db's FairQueuePool is ours: at INFO its
    # "Pool disposed" and "Pool recreating" lines came through (among `itp run-distributed`'s banner, as it
    # seeded); SQLAlchemy's own pools stay at WARNING unless echo_pool is set, and so does this one
    for noisy in ("aiokafka", "kafka", "sqlalchemy.engine", "httpx", "uvicorn.access", "alembic", "aiosqlite",
                  "libs.common.db.FairQueuePool"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def log_unhandled(exc: BaseException, path: str | None) -> None:
    logging.getLogger("itp.errors").error("unhandled error", exc_info=(type(exc), exc, exc.__traceback__),
                                          extra={"path": path})


class RequestContextMiddleware:
    """Pure ASGI middleware: request id and correlation id in, out, and in every log line."""

    def __init__(self, app, service: str):
        self.app = app
        self.service = service
        self.log = logging.getLogger(f"itp.{service}.access")

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
        rid = headers.get("x-request-id") or str(uuid.uuid4())
        cid = headers.get("x-correlation-id") or rid
        tokens = (request_id_var.set(rid), correlation_id_var.set(cid), service_var.set(self.service))
        # also in the scope's state, for code that runs outside this middleware (Starlette's 500 handler)
        state = scope.setdefault("state", {})
        state["request_id"], state["correlation_id"] = rid, cid
        start = time.perf_counter()
        status_holder = {"status": 500, "started": False}

        async def _send(message):
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                status_holder["started"] = True
                hdrs = list(message.get("headers", []))
                hdrs.append((b"x-request-id", rid.encode()))
                hdrs.append((b"x-correlation-id", cid.encode()))
                message["headers"] = hdrs
            await send(message)

        try:
            try:
                await self.app(scope, receive, _send)
            except Exception as exc:  # noqa: BLE001 - answered here, inside the request's context
                # caught here rather than by Starlette's outermost handler, so that the error's log line and
                # the 500 answer carry the request id
                if status_holder["started"]:
                    log_unhandled(exc, scope.get("path"))
                    raise
                from .errors import unhandled_error_response
                response = unhandled_error_response(exc, scope.get("path"))
                await response(scope, receive, _send)
        finally:
            self.log.info("request", extra={"method": scope.get("method"), "path": scope.get("path"),
                                            "status": status_holder["status"],
                                            "duration_ms": round((time.perf_counter() - start) * 1000, 2)})
            for var, tok in zip((request_id_var, correlation_id_var, service_var), tokens):
                var.reset(tok)
