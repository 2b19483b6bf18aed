"""Posting one delivery, safely (server-side request forgery).

At every attempt, whatever was checked at registration: the URL's host is checked again as the HTTP client
parses it; a name is resolved (`loop.getaddrinfo`, or an injected resolver) and EVERY address it resolves to
must be public (domain.webhooks.address_refusal); then the connection goes to the address that was checked,
not to the name again: the request's URL carries the IP, the Host header and the TLS SNI/server_hostname the
name (so the certificate is still verified for the name). A DNS answer that changes between the check and
the connection (rebinding) therefore cannot redirect the delivery. Redirects are not followed, proxies from
the environment are not used, connections are not kept alive (a pooled connection belongs to one name's
TLS handshake), and the receiver's body is never read.

The outcome is a status code or an error CODE (domain.webhooks.DeliveryError): the delivery log, which the
council reads, never holds exception text with internal addresses or ports.
"""
from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from dataclasses import dataclass
from typing import Awaitable, Callable

import httpx

from ..domain.webhooks import DeliveryError, InvalidWebhookUrl, address_refusal, check_host, succeeded, target_of

log = logging.getLogger("itp.gateway.webhooks")
Resolver = Callable[[str, int], Awaitable[list[str]]]


async def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for the name (A and AAAA), in its order."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None  # a DeliveryError code, or None on a 2xx


class Refused(Exception):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def _is_tls(exc: BaseException) -> bool:
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, ssl.SSLError):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def error_code(exc: httpx.HTTPError) -> str:
    """The code of a failed exchange; the text (addresses, ports) stays out of what councils read."""
    if isinstance(exc, httpx.TimeoutException):
        return DeliveryError.TIMEOUT
    if _is_tls(exc):
        return DeliveryError.TLS_ERROR
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.LocalProtocolError, httpx.DecodingError)):
        return DeliveryError.PROTOCOL_ERROR
    return DeliveryError.CONNECT_FAILED


class PinnedSender:
    def __init__(self, *, timeout: float, allow_http_localhost: bool, resolver: Resolver | None = None,
                 transport: httpx.AsyncBaseTransport | None = None):
        self.timeout = timeout
        self.allow_http_localhost = allow_http_localhost
        self.resolver: Resolver = resolver or system_resolver
        self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False,
                                         limits=httpx.Limits(max_keepalive_connections=0), transport=transport)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def pinned(self, url: str) -> tuple[httpx.URL, dict[str, str], dict]:
        """The URL to connect to (the checked address), the Host header and the request extensions (SNI).
        Raises Refused with a code."""
        try:
            target_of(url, allow_http_localhost=self.allow_http_localhost)  # the rules at registration, again
            parsed = httpx.URL(url)
            target = check_host(parsed.host, parsed.scheme, allow_http_localhost=self.allow_http_localhost)
        except InvalidWebhookUrl as exc:
            raise Refused(DeliveryError.REFUSED_ADDRESS if exc.about_the_address else DeliveryError.REFUSED_URL) \
                from None
        except (httpx.InvalidURL, ValueError):
            raise Refused(DeliveryError.REFUSED_URL) from None
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        if target.address is not None:
            addresses = [str(target.address)]
        else:
            try:
                addresses = await asyncio.wait_for(self.resolver(target.host, port), timeout=self.timeout)
            except (OSError, UnicodeError, asyncio.TimeoutError):
                raise Refused(DeliveryError.DNS_FAILURE) from None
            if not addresses:
                raise Refused(DeliveryError.DNS_FAILURE)
        # every address the name has must be public: a resolver may hand out any of them
        if any(address_refusal(a, loopback_ok=target.loopback_ok) for a in addresses):
            raise Refused(DeliveryError.REFUSED_ADDRESS)
        address = addresses[0].split("%", 1)[0]
        extensions = {"sni_hostname": target.host} if parsed.scheme == "https" else {}
        return parsed.copy_with(host=address), {"host": parsed.netloc.decode("ascii")}, extensions

    async def post(self, url: str, body: bytes, headers: dict[str, str], *, context: dict | None = None) -> Outcome:
        try:
            pinned, host, extensions = await self.pinned(url)
        except Refused as refused:
            log.info("webhook delivery refused", extra={**(context or {}), "code": refused.code})
            return Outcome(None, refused.code)
        try:
            async with self._client.stream("POST", pinned, content=body, headers={**headers, **host},
                                           extensions=extensions) as response:
                status = response.status_code  # the body is never read
        except httpx.HTTPError as exc:
            code = error_code(exc)
            log.info("webhook delivery failed", extra={**(context or {}), "code": code,
                                                       "exception": type(exc).__name__})
            return Outcome(None, code)
        return Outcome(status, None if succeeded(status) else DeliveryError.http(status))
