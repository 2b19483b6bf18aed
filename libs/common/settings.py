"""Settings shared by every service, read from the environment (prefix ITP_).

A service's database URL comes from ITP_<SERVICE>_DATABASE_URL, then ITP_DATABASE_URL,
and otherwise is an SQLite file in the data directory (the embedded mode).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICES = ("referral", "matching", "assessment", "billing", "outcomes", "gateway")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ITP_", extra="ignore")

    service: str = "gateway"
    database_url: str | None = None
    # e.g. postgresql+asyncpg://itp_{service}@127.0.0.1:5432/itp: one URL shape, one role per service
    database_url_template: str | None = None
    db_schema: str | None = Field(default=None, description="Postgres schema; defaults to the service name")
    # Postgres connections one process may hold (pool + overflow): every process of a deployment counts against
    # the server's max_connections (run-distributed sets smaller pools: its many processes share one server)
    db_pool_size: int = 10
    db_max_overflow: int = 10
    # ping a pooled Postgres connection before use only when it sat idle this long (0: before every use)
    db_ping_idle_seconds: float = 2.0
    data_dir: Path = Path(".itp-data")

    transport: Literal["inprocess", "kafka"] = "inprocess"
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    # Apache Kafka supports the idempotent producer; Tansu (our test broker) rejects InitProducerId.
    kafka_enable_idempotence: bool = True
    kafka_topic_partitions: int = 3
    # Apache Kafka answers a fetch as soon as data arrives, so a long wait costs nothing; Tansu holds
    # the fetch for the whole wait, so tests and benchmarks on Tansu set this to 10.
    kafka_fetch_max_wait_ms: int = 500
    # on Tansu, a consumer polling every 10 ms costs it and the broker a steady share of a core when nothing
    # happens: after `kafka_idle_after_ms` without a record, it waits this long per fetch instead, and goes back
    # to kafka_fetch_max_wait_ms with the next record (0: always kafka_fetch_max_wait_ms, right for Apache Kafka)
    kafka_idle_fetch_max_wait_ms: int = 0
    kafka_idle_after_ms: int = 2000
    # offsets of handled batches committed at most this often (0: after every batch); a consumer stopped or
    # killed in between has those events redelivered, and its inbox drops them
    kafka_commit_interval_ms: int = 0
    # how long a consumer may go silent before its group gives its partitions to the others (aiokafka's
    # default; heartbeats every third of it). A replica killed outright is noticed after this long.
    kafka_session_timeout_ms: int = 10000
    kafka_topic_prefix: str = ""

    relay_enabled: bool = True  # run the outbox relay inside the service process
    consumers_enabled: bool = True
    outbox_poll_seconds: float = 1.0  # safety net only: the relay is woken by the commit
    consumer_retry_attempts: int = 4
    consumer_retry_backoff_seconds: float = 0.2
    # events handled (and deduplicated) in one transaction when a backlog is waiting; 1 = one at a time
    consumer_max_batch: int = 500
    outbox_batch: int = 500  # outbox rows the relay publishes together and marks in one statement
    # periodic jobs in the service process (referral expiry, reservation lapse, assessment deadlines);
    # each is safe in several replicas at once. ITP_SCHEDULER_ENABLED=false leaves them to cron (`itp ...`).
    scheduler_enabled: bool = True
    scheduler_interval_seconds: float = 300.0
    # one-time work at start-up, before /health/ready (libs/common/web.py warm_up: routes, pool, caches) instead
    # of in the first requests; the test suite, which starts a system per test, turns it off (ITP_WARM_UP=false)
    warm_up: bool = True

    # tokens: the gateway signs, every service verifies (keys from the gateway's JWKS)
    jwks_url: str | None = None  # distributed mode: http://gateway:8000/.well-known/jwks.json
    keys_file: Path | None = None  # embedded mode and the gateway: the signing keys (default data_dir/signing-keys.json)
    token_ttl_seconds: int = 600
    # the hub dashboard's sign-in session: access tokens are re-minted within it (services/gateway/dashboard/session.py)
    dashboard_session_seconds: int = 8 * 3600

    log_level: str = "INFO"
    log_json: bool = True

    # gateway: where each service lives in distributed mode (empty means in-process)
    referral_url: str | None = None
    matching_url: str | None = None
    assessment_url: str | None = None
    billing_url: str | None = None
    outcomes_url: str | None = None

    # gateway: the council door (rate limits are per client_id, or per IP without a token)
    gateway_rate_limit_per_second: float = 50.0
    gateway_rate_limit_burst: int = 200
    # where the gateway keeps its signing keys and rate-limit buckets: "local" (the key file and this process's
    # memory: one gateway process, the embedded mode) or "database" (its schema: every replica and worker signs
    # and verifies with the same keys and spends from the same buckets; services/gateway/keys.py, protection.py)
    gateway_state: Literal["local", "database"] = "local"
    gateway_keys_refresh_seconds: float = 10.0  # database state: how often a replica rereads the key set
    gateway_rate_limit_sync_seconds: float = 0.1  # database state: how often a replica reports what it admitted
    # uvicorn worker processes of `itp serve gateway` (one port; the kernel spreads connections over them)
    gateway_workers: int = 1
    gateway_max_body_bytes: int = 1024 * 1024
    gateway_cors_origins: list[str] = ["http://127.0.0.1:5173", "http://localhost:5173"]
    gateway_hsts_max_age: int = 63072000  # two years

    # gateway: webhooks to councils' systems (Standard Webhooks signing)
    webhook_allow_http_localhost: bool = False  # tests and the demo post to http://127.0.0.1
    # seconds before each retry after a failed attempt: 5s, 5m, 30m, 2h, 5h, 10h, 14h (> 24 h in all)
    webhook_retry_schedule: list[float] = [5, 300, 1800, 7200, 18000, 36000, 50400]
    webhook_timeout_seconds: float = 10.0
    webhook_poll_seconds: float = 1.0  # safety net: fan-out and redelivery wake the worker at once
    webhook_disable_after_failures: int = 50  # consecutive failed attempts ...
    webhook_disable_after_days: float = 5.0  # ... or failing without a success for this long
    webhook_worker_enabled: bool = True
    webhook_secret_grace_hours: float = 24.0  # after a rotation the old secret also signs for this long

    @classmethod
    def for_service(cls, service: str, **overrides) -> "Settings":
        settings = cls(service=service, **overrides)
        if "database_url" not in overrides:
            specific = os.environ.get(f"ITP_{service.upper()}_DATABASE_URL")
            if specific:
                settings.database_url = specific
        return settings

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        if self.database_url_template:
            return self.database_url_template.format(service=self.service)
        return f"sqlite+aiosqlite:///{(self.data_dir / f'{self.service}.db').resolve()}"

    @property
    def resolved_keys_file(self) -> Path:
        return self.keys_file or self.data_dir / "signing-keys.json"

    @property
    def is_postgres(self) -> bool:
        return self.resolved_database_url.startswith("postgresql")

    @property
    def schema(self) -> str:
        return self.db_schema or self.service

    def service_url(self, service: str) -> str | None:
        return getattr(self, f"{service}_url", None)
