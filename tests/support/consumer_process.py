"""The consumers of some services in a process of their own (tests/support/faults.py ConsumerProcess starts it).

Configured by the environment variable ITP_FAULTS_CONSUMER (JSON: settings overrides, services, arm file). Each
handler, after its writes and before the consumer commits, prints one JSON line {service, event_id, type,
key}; when the arm file names the service and the event type ({"assessment": ["admission.accepted"]}), that
handler stops there for good after printing {"stalled": true, ...}: the test then kills the process with
SIGKILL, mid-event, its transaction never committed.
"""
from __future__ import annotations

import asyncio
import importlib
import json
import os
import signal
from pathlib import Path

from libs.common.runtime import ServiceRuntime
from libs.common.settings import Settings


def say(**line) -> None:
    print(json.dumps(line), flush=True)


def handlers_for(service: str) -> dict:
    if service == "gateway":
        from services.gateway.webhooks import fanout
        return fanout.handlers(asyncio.Event())
    return importlib.import_module(f"services.{service}.handlers").HANDLERS


def reporting(service: str, handlers: dict, arm_file: Path) -> dict:
    stalled: set[str] = set()

    def armed(event_type: str) -> bool:
        try:
            rules = json.loads(arm_file.read_text())
        except (OSError, ValueError):
            return False
        return event_type in rules.get(service, ()) and event_type not in stalled

    def wrap(handler):
        async def handle(uow, envelope, payload):
            await handler(uow, envelope, payload)
            say(service=service, event_id=str(envelope.id), type=envelope.type, key=envelope.subject_id)
            if armed(envelope.type):
                stalled.add(envelope.type)
                say(stalled=True, service=service, event_id=str(envelope.id), type=envelope.type)
                await asyncio.Event().wait()  # written, not committed: until SIGKILL
        # one by one (not a set-based form, which would pass by this report), alone where the handler asks to be
        handle.itp_per_event = getattr(handler, "itp_per_event", False)
        return handle
    return {event_type: wrap(h) for event_type, h in handlers.items()}


async def main() -> None:
    config = json.loads(os.environ["ITP_FAULTS_CONSUMER"])
    arm_file = Path(config["arm_file"])
    overrides = {**config["overrides"], "relay_enabled": False, "scheduler_enabled": False,
                 "consumers_enabled": True}
    runtimes = []
    for service in config["services"]:
        metadata = importlib.import_module(f"services.{service}.tables").metadata
        settings = Settings.for_service(service, **overrides)
        runtimes.append(ServiceRuntime(settings, metadata, reporting(service, handlers_for(service), arm_file)))
    # at once: the broker holds each group's first join for a few seconds
    await asyncio.gather(*(runtime.start() for runtime in runtimes))
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    say(ready=True, pid=os.getpid())
    await stop.wait()
    for runtime in runtimes:
        await runtime.stop(step_seconds=5)


if __name__ == "__main__":
    asyncio.run(main())
