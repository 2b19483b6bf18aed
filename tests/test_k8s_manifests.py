"""deploy/k8s/ validates offline against the Kubernetes schemas (kubernetes-validate, strict: no unknown
fields) and describes the system the issue asks for: a Deployment per service and per relay, the gateway with
more than one replica behind a Service sharing one Secret-mounted key file, migrations as a Job, probes on
/health/ready and /health/live, resource requests, only the gateway reaching the services, and Postgres and
Kafka settings from Secrets. No cluster, no network."""
from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from itp.cli import parser
from itp.system import UPSTREAM_SERVICES

K8S = Path(__file__).resolve().parent.parent / "deploy" / "k8s"
KUSTOMIZATION = yaml.safe_load((K8S / "kustomization.yaml").read_text())
KUBERNETES_VERSION = "1.30.0"


def _documents(files) -> list[dict]:
    return [d for f in files for d in yaml.safe_load_all((K8S / f).read_text()) if d]


APPLIED = _documents(KUSTOMIZATION["resources"])  # what `kubectl apply -k deploy/k8s` applies
EXAMPLES = _documents(["secrets.example.yaml"])


def of_kind(kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in APPLIED if d["kind"] == kind}


def container(deployment: dict) -> dict:
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return only


def env_of(c: dict) -> dict[str, dict]:
    return {e["name"]: e for e in c.get("env", [])}


def test_every_file_is_in_the_kustomization_or_an_example():
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert files == set(KUSTOMIZATION["resources"]) | {"secrets.example.yaml"}


@pytest.mark.parametrize("doc", APPLIED + EXAMPLES, ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_each_resource_validates_strictly_against_the_kubernetes_schema(doc):
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("service", UPSTREAM_SERVICES)
def test_each_service_and_its_relay_run_as_deployments_of_their_own(service):
    deployments = of_kind("Deployment")
    api, relay = deployments[f"itp-{service}"], deployments[f"itp-{service}-relay"]
    assert container(api)["args"] == ["serve", service] and container(relay)["args"] == ["relay", service]
    assert env_of(container(api))["ITP_RELAY_ENABLED"]["value"] == "false"
    assert env_of(container(api))["ITP_JWKS_URL"]["value"] == "http://itp-gateway:8000/.well-known/jwks.json"
    assert f"itp-{service}" in of_kind("Service")
    for d in (api, relay):  # its own database role's URL and the brokers, both from Secrets
        env = env_of(container(d))
        assert env[f"ITP_{service.upper()}_DATABASE_URL"]["valueFrom"]["secretKeyRef"] == \
            {"name": "itp-database", "key": service}
        assert env["ITP_KAFKA_BOOTSTRAP_SERVERS"]["valueFrom"]["secretKeyRef"]["name"] == "itp-kafka"
        assert not [k for k in env if k.endswith("_DATABASE_URL") and k != f"ITP_{service.upper()}_DATABASE_URL"]


def test_every_container_requests_resources_and_every_http_one_has_readiness_and_liveness_probes():
    for name, d in of_kind("Deployment").items():
        c = container(d)
        assert {"cpu", "memory"} <= set(c["resources"]["requests"]), name
        assert c["args"][0] in ("serve", "relay"), name
        assert c["args"][0] in parser().parse_args(c["args"]).command, name  # a real `itp` command line
        if c["args"][0] == "serve":
            assert c["readinessProbe"]["httpGet"]["path"] == "/health/ready", name
            assert c["livenessProbe"]["httpGet"]["path"] == "/health/live", name
            assert c["ports"] == [{"name": "http", "containerPort": 8000}]


def test_the_gateway_runs_several_replicas_behind_one_service_sharing_keys_and_limits_through_its_database():
    gateway = of_kind("Deployment")["itp-gateway"]
    assert gateway["spec"]["replicas"] >= 2
    service = of_kind("Service")["itp-gateway"]
    assert service["spec"]["selector"] == {"app.kubernetes.io/name": "itp-gateway"}
    c = container(gateway)
    env = env_of(c)
    # keys and rate-limit buckets in the gateway's schema (services/gateway/keys.py), not a file per replica
    assert env["ITP_GATEWAY_STATE"]["value"] == "database"
    assert "ITP_KEYS_FILE" not in env
    assert not [v for v in gateway["spec"]["template"]["spec"]["volumes"] if "secret" in v]
    for s in UPSTREAM_SERVICES:
        assert env[f"ITP_{s.upper()}_URL"]["value"] == f"http://itp-{s}:8000"
    assert env["ITP_GATEWAY_DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {"name": "itp-database", "key": "gateway"}


def test_migrations_run_as_a_job_with_the_admin_url_and_every_services_url_from_the_secret():
    job = of_kind("Job")["itp-migrate"]
    (c,) = job["spec"]["template"]["spec"]["containers"]
    assert c["args"] == ["migrate"]
    env = env_of(c)
    assert env["ITP_PG_ADMIN_URL"]["valueFrom"]["secretKeyRef"] == {"name": "itp-database", "key": "admin"}
    for s in (*UPSTREAM_SERVICES, "gateway"):
        assert env[f"ITP_{s.upper()}_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["key"] == s


def test_network_policies_let_only_the_gateway_reach_the_services():
    policies = list(of_kind("NetworkPolicy").values())
    deny = [p for p in policies if p["spec"]["podSelector"] == {} and "ingress" not in p["spec"]]
    assert deny and deny[0]["spec"]["policyTypes"] == ["Ingress"]  # nothing in unless allowed below

    def allowed_sources(app: str) -> list:
        return [rule.get("from") for p in policies
                if p["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/name") == app
                for rule in p["spec"].get("ingress", [])]
    for s in UPSTREAM_SERVICES:
        sources = allowed_sources(f"itp-{s}")
        assert sources == [[{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "itp-gateway"}}}]], s
        assert allowed_sources(f"itp-{s}-relay") == []
    assert allowed_sources("itp-gateway") == [None]  # the door is open to callers
    # the selectors match the pods' labels
    for name, d in of_kind("Deployment").items():
        assert d["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"] == name


def test_the_example_secrets_hold_every_key_the_manifests_read():
    wanted: dict[str, set] = {}
    for d in APPLIED:
        for doc_container in _containers(d):
            for e in doc_container.get("env", []):
                ref = e.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    wanted.setdefault(ref["name"], set()).add(ref["key"])
        for v in _volumes(d):
            if "secret" in v:
                wanted.setdefault(v["secret"]["secretName"], set())
    examples = {d["metadata"]["name"]: set(d["stringData"]) for d in EXAMPLES}
    for name, keys in wanted.items():
        assert keys <= examples[name], name


def _containers(d: dict) -> list[dict]:
    return d.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [])


def _volumes(d: dict) -> list[dict]:
    return d.get("spec", {}).get("template", {}).get("spec", {}).get("volumes", [])
