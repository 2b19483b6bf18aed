"""docker-compose.yml and deploy/Dockerfile describe the distributed system correctly.

Docker itself is not needed: the compose file is read as YAML (anchors and merge keys resolved by PyYAML,
`${VAR:-default}` resolved to its default as compose would with nothing set) and checked against what the
services need: their own role and schema, Kafka, a migrated database, and a gateway that reaches them all.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from sqlalchemy.engine import make_url

from itp.cli import parser
from itp.system import UPSTREAM_SERVICES

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"

_VARIABLE = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")


def _defaults(value):
    """Compose interpolation with an empty environment: ${VAR:-default} becomes default."""
    if isinstance(value, str):
        return _VARIABLE.sub(lambda m: m.group(2) or "", value)
    if isinstance(value, dict):
        return {k: _defaults(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_defaults(v) for v in value]
    return value


COMPOSE = _defaults(yaml.safe_load(COMPOSE_FILE.read_text()))
CONTAINERS = COMPOSE["services"]


def env(container: str) -> dict[str, str]:
    environment = CONTAINERS[container].get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {k: str(v) for k, v in environment.items()}


def database_url(container: str, service: str):
    e = env(container)
    url = e.get(f"ITP_{service.upper()}_DATABASE_URL") or e.get("ITP_DATABASE_URL")
    assert url, f"{container} has no database URL for {service}"
    return make_url(url)


def depends_on(container: str) -> dict[str, dict]:
    deps = CONTAINERS[container].get("depends_on") or {}
    if isinstance(deps, list):
        deps = {name: {"condition": "service_started"} for name in deps}
    return deps


def containers_of(service: str) -> list[str]:
    return [service, f"{service}-relay"]


ALL_ITP_CONTAINERS = ["migrate", "gateway"] + [c for s in UPSTREAM_SERVICES for c in containers_of(s)]


# --- each service: an API container and a relay container --------------------------------------------
@pytest.mark.parametrize("service", UPSTREAM_SERVICES)
def test_every_service_has_an_api_container_serving_it_and_a_relay_container_publishing_its_outbox(service):
    assert CONTAINERS[service]["command"] == ["serve", service]
    assert CONTAINERS[f"{service}-relay"]["command"] == ["relay", service]


@pytest.mark.parametrize("container", ALL_ITP_CONTAINERS)
def test_every_itp_container_runs_the_one_image_built_from_deploy_dockerfile(container):
    spec = CONTAINERS[container]
    assert spec["build"] == {"context": ".", "dockerfile": "deploy/Dockerfile"}
    assert spec["image"] == CONTAINERS["migrate"]["image"]


@pytest.mark.parametrize("container", ALL_ITP_CONTAINERS)
def test_every_itp_container_command_is_a_valid_itp_command(container):
    parser().parse_args(CONTAINERS[container]["command"])


@pytest.mark.parametrize("service", UPSTREAM_SERVICES)
def test_service_and_relay_talk_to_the_compose_kafka_broker(service):
    for container in containers_of(service):
        assert env(container)["ITP_TRANSPORT"] == "kafka"
        assert env(container)["ITP_KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"


@pytest.mark.parametrize("service", UPSTREAM_SERVICES)
def test_service_and_relay_connect_as_the_services_own_role_to_the_shared_database(service):
    for container in containers_of(service):
        url = database_url(container, service)
        assert url.drivername == "postgresql+asyncpg"
        assert url.username == f"itp_{service}"
        assert url.password
        assert (url.host, url.port, url.database) == ("postgres", 5432, "itp")
    assert database_url(service, service) == database_url(f"{service}-relay", service)


@pytest.mark.parametrize("service", UPSTREAM_SERVICES)
def test_a_service_container_holds_no_other_services_credentials(service):
    for container in containers_of(service):
        for other in UPSTREAM_SERVICES + ("gateway",):
            if other != service:
                assert f"ITP_{other.upper()}_DATABASE_URL" not in env(container)
        assert "ITP_PG_ADMIN_URL" not in env(container)


@pytest.mark.parametrize("service", UPSTREAM_SERVICES)
def test_the_api_container_leaves_the_outbox_to_its_relay_container(service):
    for container in containers_of(service):
        assert env(container)["ITP_RELAY_ENABLED"] == "false"


@pytest.mark.parametrize("service", UPSTREAM_SERVICES)
def test_services_verify_tokens_against_the_gateways_jwks(service):
    assert env(service)["ITP_JWKS_URL"] == "http://gateway:8000/.well-known/jwks.json"


@pytest.mark.parametrize("service", UPSTREAM_SERVICES)
def test_service_and_relay_start_after_migrations_succeed_and_kafka_is_healthy(service):
    for container in containers_of(service):
        deps = depends_on(container)
        assert deps["migrate"]["condition"] == "service_completed_successfully"
        assert deps["kafka"]["condition"] == "service_healthy"


@pytest.mark.parametrize("service", UPSTREAM_SERVICES)
def test_api_containers_report_health_from_their_readiness_endpoint(service):
    assert "/health/ready" in " ".join(CONTAINERS[service]["healthcheck"]["test"])


def test_matching_runs_more_than_one_replica():
    assert CONTAINERS["matching"]["deploy"]["replicas"] >= 2
    assert "container_name" not in CONTAINERS["matching"]
    assert "ports" not in CONTAINERS["matching"]


# --- the gateway ------------------------------------------------------------------------------------------
def test_gateway_serves_on_port_8000_published_on_the_host():
    assert CONTAINERS["gateway"]["command"] == ["serve", "gateway"]
    assert "8000:8000" in [str(p) for p in CONTAINERS["gateway"]["ports"]]


@pytest.mark.parametrize("service", UPSTREAM_SERVICES)
def test_gateway_routes_to_each_service_container_over_http(service):
    assert env("gateway")[f"ITP_{service.upper()}_URL"] == f"http://{service}:8000"


def test_gateway_uses_kafka_its_own_role_and_keeps_its_signing_keys_on_a_volume():
    assert env("gateway")["ITP_TRANSPORT"] == "kafka"
    assert env("gateway")["ITP_KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert database_url("gateway", "gateway").username == "itp_gateway"
    assert "ITP_JWKS_URL" not in env("gateway")  # it signs tokens; it does not fetch keys
    assert any(v.split(":")[0] in COMPOSE["volumes"] for v in CONTAINERS["gateway"]["volumes"])
    assert depends_on("gateway")["migrate"]["condition"] == "service_completed_successfully"


# --- migrations -------------------------------------------------------------------------------------------
def test_migrate_job_provisions_schemas_and_roles_as_the_postgres_superuser_once_postgres_is_healthy():
    assert CONTAINERS["migrate"]["command"] == ["migrate"]
    admin = make_url(env("migrate")["ITP_PG_ADMIN_URL"])
    assert (admin.host, admin.port) == ("postgres", 5432)
    assert admin.username == CONTAINERS["postgres"]["environment"]["POSTGRES_USER"]
    assert admin.password == CONTAINERS["postgres"]["environment"]["POSTGRES_PASSWORD"]
    assert depends_on("migrate")["postgres"]["condition"] == "service_healthy"
    assert CONTAINERS["migrate"]["restart"] == "no"


@pytest.mark.parametrize("service", UPSTREAM_SERVICES + ("gateway",))
def test_migrate_job_creates_each_role_with_the_credentials_its_containers_use(service):
    assert database_url("migrate", service) == database_url(service, service)


# --- Postgres and Kafka ---------------------------------------------------------------------------------------
def test_postgres_is_version_15_with_a_healthcheck_and_the_itp_database():
    postgres = CONTAINERS["postgres"]
    assert postgres["image"].startswith("postgres:15")
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert postgres["environment"]["POSTGRES_DB"] == "itp"


def test_kafka_is_apache_kafka_with_a_healthcheck():
    kafka = CONTAINERS["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    assert kafka["healthcheck"]["test"]


def test_kafka_runs_in_kraft_mode_as_a_single_broker_and_controller_advertising_kafka_9092():
    kafka_env = CONTAINERS["kafka"]["environment"]
    assert set(kafka_env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert "KAFKA_ZOOKEEPER_CONNECT" not in kafka_env
    assert kafka_env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{kafka_env['KAFKA_NODE_ID']}@kafka:9093"
    assert "PLAINTEXT://kafka:9092" in kafka_env["KAFKA_ADVERTISED_LISTENERS"]
    assert int(kafka_env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"]) == 1


def test_only_the_gateway_is_published_on_the_host():
    published = {name for name, spec in CONTAINERS.items() if spec.get("ports")}
    assert published == {"gateway"}


# --- the image --------------------------------------------------------------------------------------------------
def _instructions() -> list[tuple[str, str]]:
    """(instruction, arguments) pairs, with comment lines dropped and continuation lines joined as Docker does."""
    lines = [line for line in DOCKERFILE.read_text().splitlines() if not line.lstrip().startswith("#")]
    text = re.sub(r"\\\n", " ", "\n".join(lines))
    return [tuple(line.strip().split(None, 1)) for line in text.splitlines() if line.strip()]


def test_dockerfile_exists_and_its_entrypoint_is_itp():
    assert DOCKERFILE.is_file()
    entrypoints = [arg for op, arg in _instructions() if op.upper() == "ENTRYPOINT"]
    assert entrypoints and json.loads(entrypoints[-1]) == ["itp"]


def test_dockerfile_installs_the_project_on_python_311_slim_and_runs_as_a_non_root_user():
    instructions = _instructions()
    assert [arg for op, arg in instructions if op.upper() == "FROM"] == ["python:3.11-slim"]
    assert any(op.upper() == "RUN" and re.search(r"pip install (-[-\w]+ )*\.(\s|$)", arg) for op, arg in instructions)
    users = [arg for op, arg in instructions if op.upper() == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
