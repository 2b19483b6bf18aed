"""`itp backup` and `itp restore`: every service's Postgres schema dumped on its own (pg_dump, custom format, as
the service's role), with what the services need to resume their events written into the backup's manifest.

What resumes where, and why it is exactly once in effect:
- **Consumers.** Each service's consumer group commits its Kafka offsets only after the transaction that handled
  the events (and wrote their ids into the service's inbox) committed. The backup reads every group's committed
  offsets *before* it dumps any schema, so each dump holds at least every event below the offsets (and perhaps
  some above). `itp restore` sets each group's offsets back to those (the services must be stopped): events
  after them are delivered again, the ones the dump already holds are found in the restored inbox and change
  nothing, the others are handled. Nothing that happened after the backup is lost while the broker still
  holds it (Kafka's retention), and nothing is applied twice.
- **Relays.** Each dump holds its service's outbox: rows not yet marked published are published by the restored
  relay (perhaps again: consumers deduplicate by event id).
- Schemas are dumped one after the other, each consistent in itself; no service reads another's tables, so no
  cross-schema snapshot is needed (the events between them are what the offsets above replay).

The manifest (manifest.json) names each dump with its SHA-256, the pg_dump and server versions, each service's
migration revision, outbox and inbox positions, and the groups' offsets. Restore checks the files against it,
refuses a target schema that already has tables, and restores as each service's own role (it owns what it
restores, as after `itp migrate`). docs/decisions/0006-retention.md: backups carry the whole record.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import re
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from libs.common.db import make_engine, provision_postgres
from libs.common.settings import Settings

from .system import ALL_SERVICES, settings_for

FORMAT = 1


class BackupError(Exception):
    pass


def libpq_url(settings: Settings) -> str:
    """The service's SQLAlchemy URL as pg_dump/pg_restore take it."""
    return make_url(settings.resolved_database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (the PostgreSQL client: apt-get install postgresql-client)")
    return path


def _major(version: str) -> int:
    m = re.search(r"(\d+)(?:\.\d+)?", version)
    if not m:
        raise BackupError(f"cannot read a PostgreSQL version from {version!r}")
    return int(m.group(1))


def _run(args: list[str]) -> str:
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:  # the tool's message names objects, never rows
        raise BackupError(f"{Path(args[0]).name} failed: {done.stderr.strip()[-2000:]}")
    return done.stdout


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


async def _scalar(settings: Settings, sql: str, default=None, *, quiet: bool = True):
    engine = make_engine(settings.resolved_database_url)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(text(sql))).scalar()
    except Exception as exc:  # noqa: BLE001 - a table a service does not have
        if not quiet:
            raise BackupError(f"cannot reach the database ({type(exc).__name__})") from None
        return default
    finally:
        await engine.dispose()


async def _positions(settings: Settings) -> dict:
    s = settings.schema
    return {
        "alembic_revision": await _scalar(settings, f'SELECT version_num FROM "{s}".alembic_version'),
        "outbox_max_seq": await _scalar(settings, f'SELECT max(seq) FROM "{s}".outbox', 0) or 0,
        "outbox_unpublished": await _scalar(
            settings, f'SELECT count(*) FROM "{s}".outbox WHERE published_at IS NULL', 0),
        "inbox_events": await _scalar(settings, f'SELECT count(*) FROM "{s}".inbox', 0),
    }


# --- Kafka: the consumer groups' offsets -------------------------------------------------------------------
def _group(settings: Settings) -> str:
    return settings.kafka_topic_prefix + settings.service  # as KafkaTransport names a service's group


async def group_offsets(settings: Settings) -> dict[str, dict[str, dict[str, int]]]:
    """{group: {topic: {partition: committed offset}}} for every service's group that has committed any, over
    every topic of the catalogue (read as each group's consumer reads them: OffsetFetch through the group's
    coordinator, which every Kafka-protocol broker that speaks consumer groups answers)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    from libs.common.events.catalogue import TOPICS

    async def one(service: str) -> tuple[str, dict[str, dict[str, int]]]:
        group = _group(settings_for(service, **_kafka_fields(settings)))
        consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers, group_id=group,
                                    enable_auto_commit=False, client_id="itp-backup")
        await consumer.start()
        try:
            await consumer._client.force_metadata_update()  # noqa: SLF001 - the topics' partitions, now
            topics: dict[str, dict[str, int]] = {}
            for topic in sorted(TOPICS):
                name = settings.kafka_topic_prefix + topic
                for partition in sorted(consumer.partitions_for_topic(name) or ()):
                    offset = await consumer.committed(TopicPartition(name, partition))
                    if offset is not None and offset >= 0:
                        topics.setdefault(name, {})[str(partition)] = offset
            return group, topics
        finally:
            await consumer.stop()

    return {group: topics for group, topics in await asyncio.gather(*(one(s) for s in ALL_SERVICES)) if topics}


async def set_group_offsets(settings: Settings, groups: dict[str, dict[str, dict[str, int]]], *,
                            timeout: float = 60.0) -> None:
    """Commit the offsets back for each group (its members must be stopped; a broker keeps a stopped member
    until its session times out, so this waits up to `timeout` for each group to be empty)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    loop = asyncio.get_running_loop()

    async def one(group: str, topics: dict[str, dict[str, int]]) -> None:
        wanted = {TopicPartition(topic, int(p)): offset for topic, parts in topics.items()
                  for p, offset in parts.items()}
        # a member of the group, as the service's consumer is (some brokers, Tansu among them, refuse a commit
        # from outside the group): join, be given the partitions, commit, leave
        consumer = AIOKafkaConsumer(*sorted(topics), bootstrap_servers=settings.kafka_bootstrap_servers,
                                    group_id=group, enable_auto_commit=False, client_id="itp-restore")
        await consumer.start()
        try:
            deadline = loop.time() + timeout
            while not set(wanted) <= consumer.assignment():
                if loop.time() > deadline:
                    raise BackupError(f"consumer group {group} did not give this restore its partitions: "
                                      "stop the services first")
                await consumer.getmany(timeout_ms=200, max_records=1)  # joins, and keeps the membership alive
            await consumer.commit(wanted)
        finally:
            await consumer.stop()

    await asyncio.gather(*(one(group, topics) for group, topics in groups.items()))


def _kafka_fields(settings: Settings) -> dict:
    return dict(transport=settings.transport, kafka_bootstrap_servers=settings.kafka_bootstrap_servers,
                kafka_topic_prefix=settings.kafka_topic_prefix)


# --- backup ----------------------------------------------------------------------------------------------
async def backup(out: Path, services=ALL_SERVICES, **overrides) -> dict:
    """Dump each service's schema into `out` and write manifest.json; answers the manifest."""
    probe = Settings(**overrides)
    if not settings_for(services[0], **overrides).is_postgres:
        raise BackupError("itp backup dumps Postgres schemas; the embedded mode's SQLite files are in "
                          f"{probe.data_dir} (copy them while `itp run` is stopped)")
    out.mkdir(parents=True, exist_ok=True)
    if any(out.iterdir()):
        raise BackupError(f"{out} is not empty: a backup goes into a directory of its own")
    pg_dump = _tool("pg_dump")
    client_version = _run([pg_dump, "--version"]).strip()
    first = settings_for(services[0], **overrides)
    server_version = await _scalar(first, "SHOW server_version", quiet=False)
    if _major(client_version) < _major(server_version):
        raise BackupError(f"pg_dump is older than the server ({client_version}; server {server_version}): "
                          "install the matching postgresql-client")
    # offsets first: every dump made after them holds at least what they say was handled
    offsets = await group_offsets(probe) if probe.transport == "kafka" else {}
    manifest = {"format": FORMAT, "created_at": datetime.now(timezone.utc).isoformat(),
                "pg_dump": client_version, "server_version": server_version,
                "kafka": {"topic_prefix": probe.kafka_topic_prefix, "groups": offsets} if offsets else None,
                "services": {}}
    async def one(service: str) -> dict:
        settings = settings_for(service, **overrides)
        dump = out / f"{service}.dump"
        positions = await _positions(settings)
        await asyncio.to_thread(_run, [pg_dump, "--format=custom", "--no-owner", "--no-privileges",
                                       f"--schema={settings.schema}", f"--file={dump}", libpq_url(settings)])
        return {"file": dump.name, "schema": settings.schema, "sha256": _sha256(dump),
                "bytes": dump.stat().st_size, **positions}

    entries = await asyncio.gather(*(one(service) for service in services))
    manifest["services"] = dict(zip(services, entries))
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


# --- restore ---------------------------------------------------------------------------------------------
async def _tables_in(settings: Settings) -> int:
    return await _scalar(settings, "SELECT count(*) FROM information_schema.tables "
                                   f"WHERE table_schema = '{settings.schema}'", 0) or 0


async def restore(src: Path, *, admin_url: str | None = None, offsets: bool = True, **overrides) -> dict:
    """Restore every service's schema from a backup into the configured (fresh) database, then set the consumer
    groups' offsets back to the backup's. The services must be stopped. Answers what was restored."""
    manifest = json.loads((src / "manifest.json").read_text())
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    pg_restore = _tool("pg_restore")
    for service, entry in manifest["services"].items():
        if _sha256(src / entry["file"]) != entry["sha256"]:
            raise BackupError(f"{entry['file']} does not match the manifest's checksum")
    async def one(service: str, entry: dict) -> dict:
        settings = settings_for(service, **overrides)
        if await _tables_in(settings):
            raise BackupError(f"schema {settings.schema} already has tables: restore into a fresh database")
        # the dump's own CREATE SCHEMA is left out: the schema exists (provisioned), owned by the service's role
        listing = await asyncio.to_thread(_run, [pg_restore, "--list", str(src / entry["file"])])
        wanted = src / f".{service}.list"
        wanted.write_text("\n".join(line for line in listing.splitlines() if " SCHEMA - " not in line) + "\n")
        try:
            await asyncio.to_thread(_run, [pg_restore, "--no-owner", "--no-privileges", "--exit-on-error",
                                           "--single-transaction", f"--use-list={wanted}",
                                           f"--dbname={libpq_url(settings)}", str(src / entry["file"])])
        finally:
            wanted.unlink(missing_ok=True)
        positions = await _positions(settings)
        if positions["alembic_revision"] != entry["alembic_revision"]:
            raise BackupError(f"{service}: restored revision {positions['alembic_revision']} is not the "
                              f"backup's {entry['alembic_revision']}")
        return positions

    if admin_url:  # provisioning touches the database's shared grants: one service at a time
        for service in manifest["services"]:
            await provision_postgres(admin_url, settings_for(service, **overrides).resolved_database_url, service)
    done = await asyncio.gather(*(one(service, entry) for service, entry in manifest["services"].items()))
    restored = dict(zip(manifest["services"], done))
    kafka = manifest.get("kafka") or {}
    if offsets and kafka.get("groups"):
        probe = Settings(**overrides)
        if probe.transport != "kafka":
            raise BackupError("the backup has Kafka offsets; restore with ITP_TRANSPORT=kafka (or --no-offsets)")
        if probe.kafka_topic_prefix != kafka.get("topic_prefix", ""):
            raise BackupError("ITP_KAFKA_TOPIC_PREFIX differs from the backup's")
        await set_group_offsets(probe, kafka["groups"])
    return {"restored": restored, "offsets": (kafka.get("groups") or {}) if offsets else {}}
