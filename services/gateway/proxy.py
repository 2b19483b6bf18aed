"""Forwarding a request to the service that owns its path: over HTTP in distributed mode,
as an in-process ASGI call in embedded mode. The request id and correlation id go along."""
from __future__ import annotations

from urllib.parse import quote

import httpx
from fastapi import Request, Response

from libs.common.errors import ProblemError
from libs.common.observability import correlation_id_var, request_id_var

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
              "transfer-encoding", "upgrade", "host", "content-length"}


class Upstreams:
    def __init__(self, clients: dict[str, httpx.AsyncClient]):
        self.clients = clients

    @classmethod
    def in_process(cls, apps: dict) -> "Upstreams":
        return cls({name: httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{name}",
                                            timeout=30) for name, app in apps.items()})

    @classmethod
    def over_http(cls, urls: dict[str, str]) -> "Upstreams":
        return cls({name: httpx.AsyncClient(base_url=url, timeout=30) for name, url in urls.items()})

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()

    async def forward(self, service: str, request: Request) -> Response:
        client = self.clients.get(service)
        if client is None:
            raise ProblemError(503, "Service Unavailable", f"The {service} service is not configured.")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["x-request-id"] = request_id_var.get() or headers.get("x-request-id", "")
        headers["x-correlation-id"] = correlation_id_var.get() or headers.get("x-correlation-id", "")
        # forward the path exactly as it came (still percent-encoded): decoding it here would turn an
        # encoded "?" or "/" inside an id into a query string or another path
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        target = quote(raw_path, safe="/%:@!$&'()*+,;=-._~")
        query = request.scope.get("query_string", b"")
        if query:
            target += "?" + quote(query, safe="/%:@!$&'()*+,;=-._~?")
        try:
            upstream = await client.request(request.method, target, headers=headers, content=await request.body())
        except httpx.InvalidURL:
            raise ProblemError(404, "Not Found", "No resource has that address.") from None
        except httpx.HTTPError as exc:
            raise ProblemError(502, "Bad Gateway", f"The {service} service did not answer ({type(exc).__name__}).")
        out_headers = {k: v for k, v in upstream.headers.items()
                       if k.lower() not in HOP_BY_HOP and k.lower() not in ("x-request-id", "x-correlation-id")}
        return Response(content=upstream.content, status_code=upstream.status_code, headers=out_headers)
