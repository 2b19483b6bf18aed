"""The whole system in one process: every service and the gateway (the embedded mode, and the
wiring the end-to-end tests use over Kafka and Postgres)."""
from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from dataclasses import dataclass

from fastapi import FastAPI

from libs.common.events.outbox import pending_count
from libs.common.events.transport import InProcessBus
from libs.common.migrations import upgrade
from libs.common.settings import Settings

UPSTREAM_SERVICES = ("referral", "matching", "assessment", "billing", "outcomes")
ALL_SERVICES = UPSTREAM_SERVICES + ("gateway",)
# how long `itp run` waits, once asked to stop, for the in-process bus to settle (what is left is lost with it)
SETTLE_ON_STOP_SECONDS = 20.0

log = logging.getLogger("itp.system")


def app_factory(service: str):
    if service not in ALL_SERVICES:
        raise KeyError(f"unknown service {service!r}; one of {', '.join(ALL_SERVICES)}")
    return importlib.import_module(f"services.{service}.app").create_app


def settings_for(service: str, **overrides) -> Settings:
    return Settings.for_service(service, **overrides)


async def migrate_all(services=ALL_SERVICES, *, admin_url: str | None = None, **overrides) -> None:
    for service in services:
        await upgrade(settings_for(service, **overrides), admin_url=admin_url)


@dataclass
class System:
    gateway: FastAPI
    services: dict[str, FastAPI]
    bus: InProcessBus | None

    def runtime(self, service: str):
        app = self.gateway if service == "gateway" else self.services[service]
        return app.state.runtime

    async def settle(self, timeout: float = 60.0) -> None:
        """Until nothing is left in flight on the in-process bus: every outbox published, every record handled by
        each group that reads it, and nothing published between two such looks (a handler's own events are
        committed before its record counts as handled, so the second look sees them). The bus is memory: an event
        published and not yet handled when the system stops is lost, with its effects (billing's last invoices
        never reaching outcomes). With Kafka the broker keeps them: nothing to wait for."""
        if self.bus is None:
            return
        loop = asyncio.get_running_loop()
        deadline, quiet_at = loop.time() + timeout, None
        while loop.time() < deadline:
            pending = 0
            for service in ALL_SERVICES:
                runtime = self.runtime(service)
                async with runtime.db.session() as session:
                    pending += await pending_count(session, runtime.tables[0])
            published, unhandled = self.bus.progress()
            if pending or unhandled:
                quiet_at = None
            elif quiet_at == published:
                return
            else:
                quiet_at = published
            await asyncio.sleep(0.05)
        raise TimeoutError(f"events still in flight after {timeout} s")

    def settling_on_stop(self, timeout: float = SETTLE_ON_STOP_SECONDS) -> FastAPI:
        """The gateway app (every service's lifespan inside its own), whose shutdown first waits for the in-process
        bus to settle (settle()): Ctrl-C on `itp run` after a write stops serving requests at once, but the
        events that write caused are still handled before the services stop, or they would be lost with the
        bus's memory (an accepted referral never reaching matching). With Kafka nothing is waited for."""
        app = self.gateway
        inner = app.router.lifespan_context

        @contextlib.asynccontextmanager
        async def lifespan(app_):
            async with inner(app_) as state:
                try:
                    yield state
                finally:
                    await self._settle_before_stop(timeout)
        app.router.lifespan_context = lifespan
        return app

    async def _settle_before_stop(self, timeout: float) -> None:
        if self.bus is None:
            return
        try:
            await self.settle(timeout)
        except TimeoutError:
            published, unhandled = self.bus.progress()
            log.warning("stopping with events still in flight on the in-process bus: they are lost",
                        extra={"published": published, "unhandled": unhandled, "waited_seconds": timeout})
        except Exception as exc:  # noqa: BLE001 - a database gone at shutdown must not stop the shutdown
            log.warning("could not wait for the in-process bus to settle before stopping",
                        extra={"error_type": type(exc).__name__})


def build_system(**overrides) -> System:
    """Every service in this process; the gateway calls them in-process and runs their lifespans.
    With the in-process transport they share one bus; with Kafka each has its own producer and group."""
    probe = Settings(**overrides)
    bus = InProcessBus() if probe.transport == "inprocess" else None
    services = {name: app_factory(name)(settings_for(name, **overrides), bus=bus) for name in UPSTREAM_SERVICES}
    gateway = app_factory("gateway")(settings_for("gateway", **overrides), bus=bus, upstream_apps=services)
    return System(gateway=gateway, services=services, bus=bus)
