"""The dashboard's client of the public API: the gateway's own ASGI app, called with the signed-in user's token,
so every read passes the door like any other client's (token check, rate limit, tenancy, the access log)."""
from __future__ import annotations

import asyncio
import uuid

import httpx


class ApiError(Exception):
    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status, self.detail = status, detail


def items(body) -> list:
    """A list answer, or a page of one ({"items": [...], "next_cursor": ...})."""
    return body["items"] if isinstance(body, dict) and "items" in body else body


class Api:
    def __init__(self, app, token: str | None):
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.internal",
                                        timeout=30.0)
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def close(self) -> None:
        await self.client.aclose()

    async def raw(self, method: str, url: str, **kwargs) -> httpx.Response:
        return await self.client.request(method, url, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs)

    async def get(self, url: str, params=None, *, allow: tuple[int, ...] = ()):
        r = await self.raw("GET", url, params=params)
        if r.status_code in allow:
            return None
        if r.status_code != 200:
            raise ApiError(r.status_code, _detail(r))
        return r.json()

    async def get_all(self, url: str, params: dict | None = None, *, cap: int = 2000) -> list:
        """Every item of a paged listing (or a plain list)."""
        out, cursor = [], None
        while True:
            query = dict(params or {})
            if cursor:
                query["cursor"] = cursor
            body = await self.get(url, params=query)
            out += items(body)
            cursor = body.get("next_cursor") if isinstance(body, dict) else None
            if not cursor or len(out) >= cap:
                return out

    async def gather(self, *calls):
        return await asyncio.gather(*calls)

    async def write(self, method: str, url: str, body: dict | None = None) -> dict:
        r = await self.raw(method, url, json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
        if r.status_code not in (200, 201):
            raise ApiError(r.status_code, _detail(r))
        return r.json()


def _detail(r: httpx.Response) -> str:
    try:
        body = r.json()
    except ValueError:
        return f"HTTP {r.status_code}"
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list):  # a validation problem's field errors
        detail = "; ".join(str(d.get("msg", d)) for d in detail)
    errors = body.get("errors") if isinstance(body, dict) else None
    if errors and isinstance(errors, list):
        detail = f"{detail or ''} " + "; ".join(f"{x.get('field', '')}: {x.get('message', '')}" for x in errors
                                               if isinstance(x, dict))
    return (detail or body.get("title") or f"HTTP {r.status_code}").strip()
