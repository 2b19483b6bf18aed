"""The whole system in one process: every service and the gateway (the embedded mode, and the
wiring the end-to-end tests use over Kafka and Postgres)."""
from __future__ import annotations

import importlib
from dataclasses import dataclass

from fastapi import FastAPI

from libs.common.events.transport import InProcessBus
from libs.common.migrations import upgrade
from libs.common.settings import Settings

UPSTREAM_SERVICES = ("referral", "matching", "assessment", "billing", "outcomes")
ALL_SERVICES = UPSTREAM_SERVICES + ("gateway",)


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


def build_system(**overrides) -> System:
    """Every service in this process; the gateway calls them in-process and runs their lifespans.
    With the in-process transport they share one bus; with Kafka each has its own producer and group."""
    probe = Settings(**overrides)
    bus = InProcessBus() if probe.transport == "inprocess" else None
    services = {name: app_factory(name)(settings_for(name, **overrides), bus=bus) for name in UPSTREAM_SERVICES}
    gateway = app_factory("gateway")(settings_for("gateway", **overrides), bus=bus, upstream_apps=services)
    return System(gateway=gateway, services=services, bus=bus)
