"""Webhook server-side request forgery (issue 10, item 3). A council registers the URL the gateway posts to;
it must not be able to make the gateway connect to this machine, the cluster's network or a cloud's
metadata service, however the address is spelled and whatever a name resolves to, nor learn from the
delivery log which internal ports are open.

- at registration: every spelling of a non-public address, and names known to be internal, are a 422 naming
  body.url and the rule;
- at delivery (a URL stored without the registration check, or a public-looking name that resolves to an
  internal address): no connection is made and the delivery log holds a code, not the exception's text;
- the connection goes to the address that was checked (pinned), not to a second answer of the resolver.
"""
from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from libs.common.auth import KeyStore, mint_token
from libs.common.events.transport import InProcessBus
from libs.common.migrations import upgrade
from libs.common.settings import Settings
from services.gateway.app import create_app
from services.gateway.domain.webhooks import InvalidWebhookUrl, check_url
from services.gateway.tables import webhook_attempts, webhook_deliveries, webhook_endpoints
from services.gateway.webhooks.worker import DeliveryWorker
from tests.support import PG_ADMIN_URL, Receiver, free_port

A = "E10000018"
VALIDATION = "https://itp.example.org/problems/validation-error"

# the loopback address, the cloud metadata address and private ranges, spelled every way a resolver reads them
SPELLINGS = [
    "127.0.0.1", "127.1", "127.0.1", "2130706433", "0x7f000001", "0x7f.1", "0177.0.0.1", "0177.1", "017700000001",
    "[::1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[0:0:0:0:0:ffff:127.0.0.1]", "[::127.0.0.1]",
    "[64:ff9b::7f00:1]", "[2002:7f00:1::]", "0.0.0.0", "0", "[::]", "169.254.169.254", "2852039166",
    "0xa9fea9fe", "0251.0376.0251.0376", "[::ffff:169.254.169.254]", "[fe80::1]", "10.0.0.5", "012.0.0.5",
    "172.16.0.1", "192.168.1.1", "100.64.0.1", "224.0.0.1", "255.255.255.255", "[fc00::1]", "[ff02::1]",
    "１２７.０.０.１",
]
INTERNAL_NAMES = ["localhost", "LOCALHOST.", "api.localhost", "metadata.google.internal", "metadata",
                  "instance-data", "db.internal", "postgres", "kubernetes.default.svc", "printer.local",
                  "169.254.169.254.nip.io", "10-0-0-1.sslip.io", "app.localtest.me", "ｌｏｃａｌｈｏｓｔ"]


@pytest.mark.parametrize("host", SPELLINGS + INTERNAL_NAMES)
def test_the_url_rule_refuses_every_spelling_of_an_internal_address_and_internal_names(host):
    for url in (f"https://{host}/hooks", f"https://{host}:8443/hooks"):
        with pytest.raises(InvalidWebhookUrl) as refused:
            check_url(url, allow_http_localhost=False)
        assert refused.value.rule in ("webhook_url_public_address", "webhook_url_internal_name")


@pytest.mark.parametrize("url", ["https://case-system.example.gov.uk/itp", "https://8.8.8.8/h",
                                 "https://[2606:4700:4700::1111]/h", "https://93.184.216.34.nip.io/h",
                                 "https://hooks.council-a.example.invalid/h"])
def test_public_hosts_pass(url):
    assert check_url(url, allow_http_localhost=False) == url


def test_the_test_only_allowance_reaches_the_loopback_address_and_nothing_else():
    assert check_url("http://127.0.0.1:8080/h", allow_http_localhost=True)
    assert check_url("http://localhost:8080/h", allow_http_localhost=True)
    for url in ("http://10.0.0.5/h", "http://169.254.169.254/latest", "http://metadata.google.internal/",
                "http://case.example.gov.uk/h", "http://[fe80::1]/h"):
        with pytest.raises(InvalidWebhookUrl):
            check_url(url, allow_http_localhost=True)


# --- the gateway alone, on SQLite and on Postgres, its worker driven by hand ------------------------------
class Gateway:
    def __init__(self, app, settings):
        self.app, self.settings = app, settings
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test")

    @property
    def runtime(self):
        return self.app.state.runtime

    def council(self, la_code: str = A) -> dict:
        token = mint_token(KeyStore(self.settings.resolved_keys_file), client_id=f"council-{la_code}",
                           la_code=la_code, scopes=("webhooks:manage",))
        return {"Authorization": f"Bearer {token}"}

    def worker(self, **kwargs) -> DeliveryWorker:
        return DeliveryWorker(self.runtime, asyncio.Event(), **kwargs)

    async def endpoint_with_delivery(self, url: str) -> tuple[str, str]:
        """An endpoint stored WITHOUT the registration check (as a row from before it, or a bypass would be),
        with one delivery due now."""
        now = datetime.now(timezone.utc)
        endpoint, delivery = str(uuid.uuid4()), "msg_" + uuid.uuid4().hex[:24]
        async with self.runtime.db.session() as session, session.begin():
            await session.execute(webhook_endpoints.insert().values(
                id=endpoint, la_code=A, client_id=f"council-{A}", url=url, event_types=["*"], secret="whsec_AAAA",
                active=True, consecutive_failures=0, version=1, created_at=now, updated_at=now))
            await session.execute(webhook_deliveries.insert().values(
                id=delivery, endpoint_id=endpoint, la_code=A, event_id=str(uuid.uuid4()),
                event_type="referral.received", body='{"type":"referral.received"}', state="pending", attempts=0,
                next_attempt_at=now - timedelta(seconds=1), created_at=now, updated_at=now))
        return endpoint, delivery

    async def log_of(self, endpoint: str) -> list[dict]:
        r = await self.client.get(f"/v1/webhooks/{endpoint}/deliveries", headers=self.council())
        assert r.status_code == 200, r.text
        return r.json()["items"]


@pytest.fixture(params=["inprocess-sqlite", "postgres"])
async def gateway(request, tmp_path):
    # asked for here, not when a gateway is made in the test: the database then outlives the gateways (dropped under
    # a running one, it takes the relay's LISTEN connection and the relay's stop waits out its 10 s limit)
    database = request.getfixturevalue("pg_database") if request.param == "postgres" else None
    made = []

    async def _make(**overrides) -> Gateway:
        common = dict(data_dir=tmp_path, transport="inprocess", log_json=True, webhook_worker_enabled=False,
                      webhook_retry_schedule=[60.0], webhook_timeout_seconds=2.0)
        common.update(overrides)
        if database:
            settings = Settings.for_service(
                "gateway", database_url=f"postgresql+asyncpg://itp_gateway@127.0.0.1:5432/{database}",
                **common)
            await upgrade(settings, admin_url=PG_ADMIN_URL)
        else:
            settings = Settings.for_service("gateway", database_url=f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}",
                                            **common)
            await upgrade(settings)
        app = create_app(settings, bus=InProcessBus(), upstream_apps={})
        cm = app.router.lifespan_context(app)
        await cm.__aenter__()
        gw = Gateway(app, settings)
        made.append((gw, cm))
        return gw

    yield _make
    for gw, cm in reversed(made):
        await gw.client.aclose()
        await cm.__aexit__(None, None, None)


class Listener:
    """A TCP port on this machine that counts every connection made to it (and answers 200 if asked)."""

    def __init__(self):
        self.connections = 0
        self.port = free_port()

    async def __aenter__(self):
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        return self

    async def __aexit__(self, *exc):
        self.server.close()
        await self.server.wait_closed()

    async def _handle(self, reader, writer):
        self.connections += 1
        with contextlib.suppress(Exception):
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()
        writer.close()


def _refuse_to_resolve(calls: list):
    async def resolver(host, port):
        calls.append(host)
        raise AssertionError(f"{host} must be refused before it is resolved")
    return resolver


def _no_internal_detail(items: list[dict], port: int) -> None:
    text = str(items)
    for leak in (str(port), "127.0.0.1", "Errno", "Connect", "Error"):
        assert leak not in text, (leak, text)


async def test_every_spelling_is_refused_at_registration_with_a_422_naming_body_url_and_the_rule(gateway):
    gw = await gateway()
    hook = await gw.client.post("/v1/webhooks", json={"url": "https://case.example.gov.uk/h", "event_types": ["*"]},
                                headers=gw.council())
    assert hook.status_code == 201, hook.text
    for host in SPELLINGS + INTERNAL_NAMES:
        for port in ("", ":5432"):
            url = f"https://{host}{port}/hooks"
            r = await gw.client.post("/v1/webhooks", json={"url": url, "event_types": ["*"]}, headers=gw.council())
            assert r.status_code == 422, (url, r.status_code, r.text)
            problem = r.json()
            assert problem["type"] == VALIDATION and r.headers["content-type"] == "application/problem+json"
            [error] = problem["errors"]
            assert error["field"] == "body.url", url
            assert error["rule"] in ("webhook_url_public_address", "webhook_url_internal_name"), (url, error)
        # and a change of URL is held to the same rule
        r = await gw.client.patch(f"/v1/webhooks/{hook.json()['id']}", json={"url": f"https://{host}/hooks"},
                                  headers={"If-Match": "*", **gw.council()})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.url", (host, r.text)


async def test_a_stored_url_to_an_internal_address_gets_no_connection_and_a_coded_error(gateway):
    gw = await gateway()
    calls: list[str] = []
    async with Listener() as listener:
        hosts = SPELLINGS[:20] + INTERNAL_NAMES
        endpoints = [(await gw.endpoint_with_delivery(f"https://{host}:{listener.port}/hooks"))[0] for host in hosts]
        worker = gw.worker(resolver=_refuse_to_resolve(calls), batch=100)
        assert await worker.deliver_due() == len(hosts)
        assert listener.connections == 0 and calls == []
        for endpoint, host in zip(endpoints, hosts):
            [delivery] = await gw.log_of(endpoint)
            [attempt] = delivery["log"]
            assert attempt["status_code"] is None and attempt["error"] == "refused_address", (host, attempt)
            _no_internal_detail([delivery], listener.port)


async def test_a_public_looking_name_that_resolves_to_an_internal_address_gets_no_connection(gateway):
    # the allowance for tests is on: it lets http://127.0.0.1 through, and still not a NAME that resolves there
    gw = await gateway(webhook_allow_http_localhost=True)
    asked: list[str] = []
    answers = {"hooks.council-a.example.org": ["127.0.0.1"],
               "rebind.example.org": ["93.184.216.34", "127.0.0.1"],  # ANY internal address refuses the name
               "metadata-alias.example.org": ["169.254.169.254"],
               "v6.example.org": ["2606:4700::1", "::ffff:10.0.0.1"],
               "link.example.org": ["fe80::1%eth0"]}

    async def resolver(host, port):
        asked.append(host)
        return answers[host]
    async with Listener() as listener:
        endpoints = {}
        for name in answers:
            for scheme in ("http", "https"):
                endpoints[(name, scheme)] = (await gw.endpoint_with_delivery(
                    f"{scheme}://{name}:{listener.port}/hooks"))[0]
        worker = gw.worker(resolver=resolver, batch=100)
        await worker.deliver_due()
        assert listener.connections == 0
        for (name, scheme), endpoint in endpoints.items():
            [delivery] = await gw.log_of(endpoint)
            error = delivery["log"][0]["error"]
            assert error == ("refused_address" if scheme == "https" else "refused_url"), (name, scheme, error)
            _no_internal_detail([delivery], listener.port)
        assert set(asked) == set(answers)


async def test_delivery_errors_are_codes_without_addresses_or_ports(gateway):
    gw = await gateway(webhook_allow_http_localhost=True, webhook_timeout_seconds=0.5)
    closed = free_port()

    held = []

    async def silent(reader, writer):  # accepts and never answers
        held.append(writer)
    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    silent_port = server.sockets[0].getsockname()[1]

    async def no_such_name(host, port):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    try:
        async with Receiver(script=[503]) as plain, Listener() as not_tls:
            cases = {
                f"http://127.0.0.1:{closed}/h": "connect_failed",
                f"http://127.0.0.1:{silent_port}/h": "timeout",
                f"https://127.0.0.1:{not_tls.port}/h": "tls_error",  # TLS to a server that answers plain HTTP
                f"http://127.0.0.1:{plain.port}/h": "http_503",
                f"https://nowhere.example.org:{closed}/h": "dns_failure",
            }
            endpoints = {url: (await gw.endpoint_with_delivery(url))[0] for url in cases}
            await gw.worker(resolver=no_such_name, batch=100).deliver_due()
            for url, code in cases.items():
                [delivery] = await gw.log_of(endpoints[url])
                attempt = delivery["log"][0]
                assert attempt["error"] == code, (url, attempt)
                for port in (closed, silent_port, plain.port, not_tls.port):
                    assert str(port) not in str(delivery)
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_the_connection_goes_to_the_checked_address_with_the_name_as_host_and_sni(gateway):
    """DNS rebinding: the name answers a public address when checked and 127.0.0.1 afterwards. The request
    is sent to the checked address (the resolver is asked once), with Host and TLS SNI naming the name."""
    gw = await gateway()
    answers = iter([["93.184.216.34"], ["127.0.0.1"], ["127.0.0.1"]])
    asked: list[str] = []

    async def rebinding(host, port):
        asked.append(host)
        return next(answers)
    sent: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(204)
    endpoint, _ = await gw.endpoint_with_delivery("https://hooks.council-a.example.org:8443/itp?x=1")
    worker = gw.worker(resolver=rebinding, transport=httpx.MockTransport(receiver))
    try:
        assert await worker.deliver_due() == 1
    finally:
        await worker.stop()
    [request] = sent
    assert asked == ["hooks.council-a.example.org"]
    assert request.url.host == "93.184.216.34" and request.url.port == 8443 and request.url.scheme == "https"
    assert request.url.raw_path == b"/itp?x=1"
    assert request.headers["host"] == "hooks.council-a.example.org:8443"
    assert request.extensions["sni_hostname"] == "hooks.council-a.example.org"
    assert request.headers["webhook-id"] and request.headers["webhook-signature"].startswith("v1,")
    [delivery] = await gw.log_of(endpoint)
    assert delivery["state"] == "succeeded" and delivery["log"][0]["error"] is None


async def test_error_texts_stored_before_codes_are_shown_as_codes(gateway):
    gw = await gateway()
    endpoint, delivery = await gw.endpoint_with_delivery("https://case.example.gov.uk/h")
    now = datetime.now(timezone.utc)
    async with gw.runtime.db.session() as session, session.begin():
        await session.execute(webhook_attempts.insert(), [
            dict(delivery_id=delivery, attempted_at=now, status_code=None, duration_ms=3, manual=False,
                 error="ConnectError: All connection attempts failed [Errno 111] Connect call failed "
                       "('10.0.0.5', 5432)"),
            dict(delivery_id=delivery, attempted_at=now, status_code=500, error="HTTP 500", duration_ms=3,
                 manual=False)])
    [item] = await gw.log_of(endpoint)
    assert [a["error"] for a in item["log"]] == ["connect_failed", "http_500"]
    assert "10.0.0.5" not in str(item) and "5432" not in str(item)
