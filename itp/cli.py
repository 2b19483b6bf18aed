"""`itp`: run, serve, relay, migrate, seed, replay dead letters, create API clients, listen for webhooks, back up
and restore."""
from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys

from libs.common.observability import configure_logging
from libs.common.settings import Settings

from .system import ALL_SERVICES, UPSTREAM_SERVICES, app_factory, build_system, migrate_all, settings_for

BANNER = """
  Integrated Therapeutic Pathway - embedded mode (SQLite files in {data_dir}, in-process event bus)

  Gateway:   http://{host}:{port}
  API docs:  http://{host}:{port}/docs        (merged OpenAPI: http://{host}:{port}/v1/openapi.json)
  Health:    http://{host}:{port}/health/ready
  Dashboard: http://{host}:{port}/dashboard   (sign in as demo-hub, demo-home-manager or demo-finance)
{logs}

  Demo API clients (OAuth2 client credentials):
{clients}
  Try:  TOKEN=$(curl -s -u demo-leicestershire:demo-leicestershire-secret -d grant_type=client_credentials \\
                 http://{host}:{port}/oauth/token | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
        curl -s -X POST http://{host}:{port}/v1/referrals -H "Authorization: Bearer $TOKEN" \\
          -H 'Idempotency-Key: demo-1' -H 'content-type: application/json' \\
          -d '{{"child_ref":"LCC-0001","date_of_birth":"2012-03-14","sex":"female","urgency":"crisis","home_postcode":"LE4 6AB","social_worker":{{"name":"Sam Patel","email":"sam.patel@leics.gov.uk"}}}}'
        then, with the hub's token (demo-hub), GET http://{host}:{port}/v1/referrals/<id>/matches
  Webhooks:  itp webhooks listen --gateway http://{host}:{port}   (prints each signed delivery to a demo council)
  The blueprint home ({home}) holds children A-D of the 3-bed scenario; each child's phase on any date:
        GET http://{host}:{port}/v1/placements?home={home}&as_of=YYYY-MM-DD   (demo-hub or demo-home-manager)
"""


def _admin_url() -> str | None:
    return os.environ.get("ITP_PG_ADMIN_URL")


def quiet_console(log_file, level: str = "INFO") -> None:
    """`itp run` keeps the console readable: every log line (JSON, one per line) goes to `log_file`, and only
    warnings and errors reach the console, in plain text; the start-up banner stays in view."""
    import logging

    from libs.common.observability import JsonFormatter, PlainFormatter

    log_file.parent.mkdir(parents=True, exist_ok=True)
    to_file = logging.FileHandler(log_file, encoding="utf-8")
    to_file.setFormatter(JsonFormatter())
    to_console = logging.StreamHandler(sys.stderr)
    to_console.setLevel(logging.WARNING)
    to_console.setFormatter(PlainFormatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers = [to_file, to_console]
    root.setLevel(level)


def cmd_run(args) -> int:
    import uvicorn

    from .seed import DEMO_CLIENTS, seed_blueprint

    overrides = {"data_dir": args.data_dir} if args.data_dir else {}
    overrides["transport"] = "inprocess"
    # embedded mode is for demos and integrators on this machine: `itp webhooks listen` receives on 127.0.0.1
    overrides["webhook_allow_http_localhost"] = os.environ.get("ITP_WEBHOOK_ALLOW_HTTP_LOCALHOST", "true") != "false"
    log_file = Settings(**overrides).data_dir.resolve() / "logs" / "itp.log"
    if not args.log_console:  # operators: --log-console (JSON unless ITP_LOG_JSON=false) as before
        quiet_console(log_file, os.environ.get("ITP_LOG_LEVEL", "INFO"))
    asyncio.run(migrate_all(**overrides))
    asyncio.run(seed_blueprint(**overrides))  # the demo clients and referrals, and children A-D's history
    system = build_system(**overrides)
    clients = "\n".join(f"    {c['client_id']:<22} secret {c['client_secret']:<30} "
                        f"{('council ' + c['la_code']) if c.get('la_code') else 'role ' + c['role']}"
                        for c in DEMO_CLIENTS)
    from services.matching.seed import BLUEPRINT_HOME_ID
    logs = (f"  Logs:      {log_file}  (JSON lines; warnings and errors also here; --log-console for all)"
            if not args.log_console else "  Logs:      this console")
    print(BANNER.format(host=args.host, port=args.port, clients=clients, home=BLUEPRINT_HOME_ID,
                        data_dir=Settings(**overrides).data_dir.resolve(), logs=logs), flush=True)
    from .serving import frozen_after_start_up
    uvicorn.run(frozen_after_start_up(system.settling_on_stop()), host=args.host, port=args.port, log_config=None, loop="uvloop",
                http="httptools")
    return 0


def cmd_serve(args) -> int:
    from .serving import serve

    serve(args.service, args.host, args.port, workers=args.workers)
    return 0


def cmd_relay(args) -> int:
    """The outbox relay as its own process (the service itself then runs with ITP_RELAY_ENABLED=false)."""
    async def main():
        app = app_factory(args.service)(settings_for(args.service, consumers_enabled=False))
        runtime = app.state.runtime
        await runtime.transport.start()
        gc.collect()  # as itp serve does once started (itp/serving.py): the app's long-lived heap out of the
        gc.freeze()  # collector's full passes
        try:
            await runtime.relay.run()
        finally:
            await runtime.stop()
    # the serving stack's event loop (itp/serving.py): a relay is socket writes to Postgres and the broker, and on
    # asyncio's own loop the selector and transport code was half of its CPU
    import uvloop

    try:
        uvloop.run(main())
    except KeyboardInterrupt:
        pass
    return 0


def cmd_migrate(args) -> int:
    services = [args.service] if args.service else list(ALL_SERVICES)
    asyncio.run(migrate_all(services, admin_url=_admin_url()))
    print(json.dumps({"migrated": services}))
    return 0


def cmd_seed(args) -> int:
    from .seed import seed_blueprint, seed_demo

    if getattr(args, "gateway", None):  # a running distributed system: through its gateway (itp/distributed.py)
        return cmd_seed_over_http(args)
    if args.what == "blueprint":  # embedded mode: the in-process bus carries the events between services
        placements = asyncio.run(seed_blueprint(transport="inprocess"))
        print(json.dumps({"seeded": args.what, "placements": placements}))
        return 0
    created = asyncio.run(seed_demo())
    # the demo region (itp/demo_region.py) too, through the APIs; deterministic, and a second run adds nothing
    region = asyncio.run(seed_blueprint(transport="inprocess"))
    print(json.dumps({"seeded": args.what, "clients_created": [c["client_id"] for c in created],
                      "blueprint_placements": region}))
    return 0


def cmd_seed_over_http(args) -> int:
    """`itp seed demo|blueprint --gateway URL`: seed a distributed system (each service its own process) through
    its gateway; the demo clients and home go straight to their databases (ITP_<SERVICE>_DATABASE_URL)."""
    from .distributed import seed_over_http

    seeded = asyncio.run(seed_over_http(args.gateway))
    print(json.dumps({"seeded": args.what, "gateway": args.gateway, **seeded}))
    return 0


def cmd_run_distributed(args) -> int:
    """`make run-distributed`: the distributed system on this machine under honcho (itp/distributed.py)."""
    from pathlib import Path

    from .distributed import main as run_distributed

    return run_distributed(port=args.port, database=args.database, data_dir=Path(args.data_dir),
                           admin_url=args.pg_admin_url, seed=not args.no_seed, procfile_only=args.procfile_only,
                           log_level=args.log_level, gateway_workers=args.gateway_workers)


def add_run_distributed_parser(sub) -> None:
    rd = sub.add_parser("run-distributed", help="the distributed system on this machine without Docker: Postgres "
                                                "schemas and roles, a Tansu broker, each service and relay its own "
                                                "process (honcho), the gateway, demo and blueprint data")
    rd.add_argument("--port", type=int, default=int(os.environ.get("ITP_PORT", "8000")), help="the gateway's port")
    rd.add_argument("--database", default=os.environ.get("ITP_DISTRIBUTED_DATABASE", "itp_distributed"),
                    help="the Postgres database, dropped and created afresh at each start")
    rd.add_argument("--data-dir", default=os.environ.get("ITP_DISTRIBUTED_DATA_DIR", ".itp-data/distributed"),
                    help="the Procfile and plan.json (where each process listens)")
    rd.add_argument("--pg-admin-url", default=None,
                    help="a superuser URL (default ITP_PG_ADMIN_URL, else postgres@127.0.0.1:5432)")
    rd.add_argument("--no-seed", action="store_true", help="start empty: no demo clients or blueprint data")
    rd.add_argument("--procfile-only", action="store_true", help="write DATA_DIR/Procfile and exit")
    rd.add_argument("--log-level", default=os.environ.get("ITP_LOG_LEVEL", "WARNING"))
    rd.add_argument("--gateway-workers", type=int, default=int(os.environ.get("ITP_GATEWAY_WORKERS", "2")),
                    help="the gateway's worker processes on its one port (default 2)")
    rd.set_defaults(func=cmd_run_distributed)


def cmd_replay(args) -> int:
    async def main():
        app = app_factory(args.dead_letter)(settings_for(args.dead_letter))
        runtime = app.state.runtime
        await runtime.transport.start()
        try:
            return await runtime.consumer.replay_dead_letters(args.event_id)
        finally:
            await runtime.stop()
    report = asyncio.run(main())
    print(json.dumps({"service": args.dead_letter, "replayed": report}, indent=2))
    return 0 if all(r["status"] == "replayed" for r in report) else 1


def cmd_referrals_expire(args) -> int:
    """Expire the open referrals not decided in time (safe to run twice, e.g. from a daily cron job)."""
    from datetime import date

    from services.referral.scheduled import expire_overdue

    async def main():
        app = app_factory("referral")(settings_for("referral", consumers_enabled=False, relay_enabled=False))
        runtime = app.state.runtime
        try:
            return await expire_overdue(runtime, app.state.referral_settings,
                                        date.fromisoformat(args.today) if args.today else None)
        finally:
            await runtime.stop()
    expired = asyncio.run(main())
    print(json.dumps({"expired": expired}))
    return 0


def cmd_deadlines_sweep(args) -> int:
    """Send deadline.due_soon / deadline.missed once per plan, task and review deadline (safe to run from
    several replicas or cron jobs at once: each notice is a unique row written with its outbox event)."""
    from datetime import date

    from services.assessment.scheduled import sweep

    async def main():
        app = app_factory("assessment")(settings_for("assessment", consumers_enabled=False, relay_enabled=False))
        runtime = app.state.runtime
        try:
            return await sweep(runtime, date.fromisoformat(args.today) if args.today else None)
        finally:
            await runtime.stop()
    print(json.dumps(asyncio.run(main())))
    return 0


def cmd_client_create(args) -> int:
    from libs.common.db import Database
    from services.gateway.clients import create_client
    from services.gateway.domain.principals import InvalidClient

    async def main():
        db = Database(settings_for("gateway"))
        try:
            async with db.session() as session, session.begin():
                return await create_client(session, name=args.name, la_code=args.la, role=args.role,
                                           scopes=args.scope, homes=args.home)
        finally:
            await db.dispose()
    try:
        print(json.dumps(asyncio.run(main()), indent=2))
    except InvalidClient as exc:
        print(json.dumps({"error": str(exc)}), file=sys.stderr)
        return 2
    return 0


def cmd_keys(args) -> int:
    """The gateway's signing keys. After a rotation two keys are live: the new one signs, the previous
    one still verifies the tokens it signed until they expire; a second rotation retires it."""
    from libs.common.auth import KeyStore

    settings = settings_for("gateway")
    if settings.gateway_state == "database":  # shared by the replicas, in the gateway's database
        return asyncio.run(_shared_keys(settings, args.keys_command))
    store = KeyStore(settings.resolved_keys_file)
    if args.keys_command == "rotate":
        print(json.dumps(store.rotate()))
    else:
        print(json.dumps({"keys": [{"kid": k["kid"], "alg": k["alg"]} for k in store.jwks()["keys"]]}))
    return 0


async def _shared_keys(settings, command: str) -> int:
    from libs.common.db import Database
    from services.gateway.keys import SharedKeys

    db = Database(settings)
    try:
        keys = SharedKeys(db, token_ttl_seconds=settings.token_ttl_seconds,
                          refresh_seconds=settings.gateway_keys_refresh_seconds, key_file=settings.resolved_keys_file)
        if command == "rotate":
            await keys.ensure()
            print(json.dumps(await keys.rotate()))
        else:
            await keys.refresh()
            print(json.dumps({"keys": [{"kid": k["kid"], "alg": k["alg"]} for k in keys.jwks()["keys"]]}))
    finally:
        await db.dispose()
    return 0


def verify_delivery(secrets: list[str], headers: dict[str, str], body: bytes, *, now: float | None = None,
                    tolerance: int = 300) -> bool:
    """A Standard Webhooks signature check: one of the `v1,` signatures is the HMAC-SHA256 of
    id.timestamp.body under one of our secrets, and the timestamp is within `tolerance` seconds."""
    import hmac
    import time

    from services.gateway.domain.webhooks import sign

    headers = {k.lower(): v for k, v in headers.items()}
    msg_id, timestamp, signatures = (headers.get("webhook-id"), headers.get("webhook-timestamp"),
                                     headers.get("webhook-signature", ""))
    if not msg_id or not timestamp or not (timestamp.isascii() and timestamp.isdigit()):
        return False
    if abs((now or time.time()) - int(timestamp)) > tolerance:
        return False
    text = body.decode("utf-8", "replace")
    expected = {sign(secret, msg_id, int(timestamp), text) for secret in secrets}
    return any(hmac.compare_digest(sig, want) for sig in signatures.split() for want in expected)


def cmd_webhooks_listen(args) -> int:
    """Register a local receiver for a demo council, print each verified delivery as it arrives (one JSON
    line each), and remove the endpoint on exit (Ctrl-C, SIGTERM, or after --count deliveries)."""
    import queue
    import signal
    import threading
    import uuid
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import httpx

    gateway = args.gateway.rstrip("/")
    secret_of_client = args.client_secret or f"{args.client}-secret"

    def token() -> dict:
        resp = httpx.post(f"{gateway}/oauth/token", data={"grant_type": "client_credentials"},
                          auth=(args.client, secret_of_client), timeout=10)
        resp.raise_for_status()
        return {"Authorization": f"Bearer {resp.json()['access_token']}"}

    secrets: list[str] = []
    arrivals: queue.Queue = queue.Queue()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            headers = {k: v for k, v in self.headers.items()}
            ok = verify_delivery(list(secrets), headers, body)
            self.send_response(204 if ok else 401)
            self.end_headers()
            arrivals.put((ok, headers, body))

        def log_message(self, *_):  # the deliveries are printed below, not http.server's access lines
            pass

    server = ThreadingHTTPServer((args.host, args.port), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://{args.host}:{server.server_address[1]}/itp-webhooks"
    endpoint_id = None

    def stop(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        resp = httpx.post(f"{gateway}/v1/webhooks", json={"url": url, "event_types": args.event or ["*"],
                                                           "description": "itp webhooks listen"},
                          headers={**token(), "Idempotency-Key": str(uuid.uuid4())}, timeout=10)
        if resp.status_code not in (200, 201):
            print(json.dumps({"error": "could not register the receiver", "status": resp.status_code,
                              "problem": resp.json() if resp.content else None}), file=sys.stderr, flush=True)
            return 1
        endpoint_id = resp.json()["id"]
        if "secret" not in resp.json():  # registered before: the secret is shown once, so make a new one
            resp = httpx.post(f"{gateway}/v1/webhooks/{endpoint_id}/rotate-secret",
                              headers={**token(), "If-Match": "*"}, timeout=10)
            resp.raise_for_status()
        secrets.append(resp.json()["secret"])
        print(json.dumps({"listening": url, "endpoint_id": endpoint_id, "client": args.client,
                          "event_types": args.event or ["*"]}), flush=True)
        received = 0
        while args.count is None or received < args.count:
            try:
                ok, headers, body = arrivals.get(timeout=1)
            except queue.Empty:
                continue
            lower = {k.lower(): v for k, v in headers.items()}
            try:
                event = json.loads(body)
            except ValueError:
                event = None
            if not ok:
                print(json.dumps({"rejected": lower.get("webhook-id"), "reason": "signature not verified"}),
                      file=sys.stderr, flush=True)
                continue
            received += 1
            print(json.dumps({"verified": True, "webhook_id": lower.get("webhook-id"),
                              "type": (event or {}).get("type"), "event": event}), flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        if endpoint_id is not None:
            try:
                gone = httpx.delete(f"{gateway}/v1/webhooks/{endpoint_id}", headers={**token(), "If-Match": "*"},
                                    timeout=10)
                print(json.dumps({"removed": endpoint_id, "status": gone.status_code}), flush=True)
            except httpx.HTTPError as exc:
                print(json.dumps({"error": f"could not remove endpoint {endpoint_id}: {type(exc).__name__}"}),
                      file=sys.stderr, flush=True)
    return 0


def cmd_backup(args) -> int:
    from pathlib import Path

    from .backup import BackupError, backup
    try:
        manifest = asyncio.run(backup(Path(args.directory)))
    except BackupError as exc:
        print(json.dumps({"error": str(exc)}), file=sys.stderr)
        return 2
    print(json.dumps({"backup": args.directory, "services": sorted(manifest["services"]),
                      "consumer_groups": sorted((manifest["kafka"] or {}).get("groups", {}))}))
    return 0


def cmd_restore(args) -> int:
    from pathlib import Path

    from .backup import BackupError, restore
    try:
        done = asyncio.run(restore(Path(args.directory), admin_url=_admin_url(), offsets=not args.no_offsets))
    except BackupError as exc:
        print(json.dumps({"error": str(exc)}), file=sys.stderr)
        return 2
    print(json.dumps({"restored": sorted(done["restored"]), "consumer_groups": sorted(done["offsets"])}))
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="itp", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="every service and the gateway in embedded mode, with demo data")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--data-dir", default=None)
    run.add_argument("--log-console", action="store_true",
                     help="every log line on the console (JSON unless ITP_LOG_JSON=false), as operators run it; "
                          "by default they go to DATA_DIR/logs/itp.log and the console shows warnings only")
    run.set_defaults(func=cmd_run)

    serve = sub.add_parser("serve", help="one service, configured from the environment")
    serve.add_argument("service", choices=ALL_SERVICES)
    serve.add_argument("--host", default=os.environ.get("ITP_HOST", "0.0.0.0"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("ITP_PORT", "8000")))
    serve.add_argument("--workers", type=int, default=None,
                       help="worker processes on this one port (default 1; the gateway: ITP_GATEWAY_WORKERS)")
    serve.set_defaults(func=cmd_serve)

    backup = sub.add_parser("backup", help="dump every service's Postgres schema, with the consumer groups' offsets "
                                           "(a manifest), into a new directory")
    backup.add_argument("directory")
    backup.set_defaults(func=cmd_backup)
    restore = sub.add_parser("restore", help="restore a backup into a fresh database (services stopped) and set the "
                                             "consumer groups back to the backup's offsets; ITP_PG_ADMIN_URL "
                                             "provisions the schemas and roles")
    restore.add_argument("directory")
    restore.add_argument("--no-offsets", action="store_true",
                         help="leave the consumer groups' offsets alone (a new broker, or an embedded restore)")
    restore.set_defaults(func=cmd_restore)

    relay = sub.add_parser("relay", help="a service's outbox relay as its own process")
    relay.add_argument("service", choices=ALL_SERVICES)
    relay.set_defaults(func=cmd_relay)

    migrate = sub.add_parser("migrate", help="run migrations (all services, or one); "
                                             "ITP_PG_ADMIN_URL also provisions each schema and role")
    migrate.add_argument("service", nargs="?", choices=ALL_SERVICES)
    migrate.set_defaults(func=cmd_migrate)

    seed = sub.add_parser("seed", help="load data")
    seed.add_argument("what", choices=["demo", "blueprint"],
                      help="demo: clients, the blueprint home, referrals; blueprint: also children A-D's history")
    seed.add_argument("--gateway", default=None, help="a running distributed system's gateway URL: seed it "
                                                      "through its API (needs ITP_<SERVICE>_DATABASE_URL)")
    seed.set_defaults(func=cmd_seed)
    add_run_distributed_parser(sub)

    events = sub.add_parser("events", help="event operations")
    events_sub = events.add_subparsers(dest="events_command", required=True)
    replay = events_sub.add_parser("replay", help="deliver a service's dead-lettered events to its handlers again")
    replay.add_argument("--dead-letter", required=True, choices=UPSTREAM_SERVICES + ("gateway",), metavar="SERVICE")
    replay.add_argument("--event-id", default=None)
    replay.set_defaults(func=cmd_replay)

    referrals = sub.add_parser("referrals", help="referral operations")
    referrals_sub = referrals.add_subparsers(dest="referrals_command", required=True)
    expire = referrals_sub.add_parser("expire", help="expire open referrals not decided in time after their wanted "
                                                     "start date (ITP_REFERRAL_EXPIRE_AFTER_DAYS); safe to rerun")
    expire.add_argument("--today", default=None, help="the day to judge by (YYYY-MM-DD); default today (UTC)")
    expire.set_defaults(func=cmd_referrals_expire)

    deadlines = sub.add_parser("deadlines", help="assessment deadlines")
    deadlines_sub = deadlines.add_subparsers(dest="deadlines_command", required=True)
    sweep = deadlines_sub.add_parser("sweep", help="notify plan, task and review deadlines due soon or missed "
                                                   "(once each; safe to rerun)")
    sweep.add_argument("--today", default=None, help="the day to judge by (YYYY-MM-DD); default today (UTC)")
    sweep.set_defaults(func=cmd_deadlines_sweep)

    client = sub.add_parser("client", help="API clients")
    client_sub = client.add_subparsers(dest="client_command", required=True)
    create = client_sub.add_parser("create", help="create an API client; prints its id and secret once")
    create.add_argument("--name", required=True)
    who = create.add_mutually_exclusive_group(required=True)
    who.add_argument("--la", help="the council's LA code, e.g. E10000018")
    who.add_argument("--role", choices=["hub", "finance", "home_manager", "provider_admin"])
    create.add_argument("--scope", action="append", default=None, help="repeat for each scope")
    create.add_argument("--home", action="append", default=None,
                        help="a home_manager's home id (repeat for each home)")
    create.set_defaults(func=cmd_client_create)

    webhooks = sub.add_parser("webhooks", help="webhooks for integrators")
    webhooks_sub = webhooks.add_subparsers(dest="webhooks_command", required=True)
    listen = webhooks_sub.add_parser("listen", help="register a local receiver for a demo council, print each "
                                                    "verified delivery as it arrives, remove it on exit")
    listen.add_argument("--gateway", default="http://127.0.0.1:8000")
    listen.add_argument("--client", default="demo-leicestershire", help="the council's client id")
    listen.add_argument("--client-secret", default=None, help="default: the demo secret, CLIENT-secret")
    listen.add_argument("--event", action="append", default=None,
                        help="an event type or pattern to receive (repeat; default every type: *)")
    listen.add_argument("--host", default="127.0.0.1", help="where the receiver listens")
    listen.add_argument("--port", type=int, default=0, help="default: a free port")
    listen.add_argument("--count", type=int, default=None, help="stop after this many verified deliveries")
    listen.set_defaults(func=cmd_webhooks_listen)

    keys = sub.add_parser("keys", help="the gateway's token signing keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    keys_sub.add_parser("rotate", help="make a new signing key; the previous one keeps verifying until retired")
    keys_sub.add_parser("list", help="the keys published at /.well-known/jwks.json")
    keys.set_defaults(func=cmd_keys)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    configure_logging(os.environ.get("ITP_LOG_LEVEL", "INFO"), os.environ.get("ITP_LOG_JSON", "true") != "false")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
