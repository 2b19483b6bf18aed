"""Which child records a request touched, so that every read or change of a child's record is audited.

A service endpoint calls touched(request, referral_id, ...) naming the child records (a child's record
is keyed by the referral id, which every later event carries). The service answers with the header
X-ITP-Child-Records; the gateway writes the access log from it (who, which client, which child record,
what, when, request id) and strips the header before the caller sees it.
"""
from __future__ import annotations

from fastapi import Request

CHILD_RECORDS_HEADER = "x-itp-child-records"


def touched(request: Request, *child_record_ids) -> None:
    ids = getattr(request.state, "child_records", None)
    if ids is None:
        ids = request.state.child_records = []
    ids.extend(str(i) for i in child_record_ids if i is not None)


class ChildRecordsMiddleware:
    """Pure ASGI: adds the header naming the child records an endpoint touched."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        scope.setdefault("state", {})

        async def _send(message):
            if message["type"] == "http.response.start":
                ids = scope["state"].get("child_records")
                if ids:
                    message.setdefault("headers", [])
                    message["headers"] = list(message["headers"]) + [
                        (CHILD_RECORDS_HEADER.encode(), ",".join(dict.fromkeys(ids)).encode())]
            await send(message)

        await self.app(scope, receive, _send)
