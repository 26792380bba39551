"""The Kubernetes manifests (final/deploy/kubernetes/): valid against the Kubernetes API's
schemas, offline (kubernetes-validate ships them), and in agreement with what they deploy:
the probes name routes the app has, the port, user and metrics directory are the image's,
every environment name is a setting, and the secrets come from the Secret alone."""

import re
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from final_deploy_facts import (
    POSTGRES_CONNECTIONS_FOR_APPS,
    compose_services,
    get_routes,
    graceful_shutdown_seconds,
    image_environment,
    image_port,
    image_user,
    per_worker_connections,
    secret_setting_names,
    setting_names,
)

from app.config import Settings

KUBERNETES_DIR = Path(__file__).resolve().parents[1] / "deploy" / "kubernetes"
KUSTOMIZATION = KUBERNETES_DIR / "kustomization.yaml"
SECRETS_EXAMPLE = KUBERNETES_DIR / "secrets.env.example"
# The oldest Kubernetes the manifests are written for (kustomization.yaml says so) and the
# newest whose schemas the package ships.
KUBERNETES_VERSIONS = ["1.30.0", kubernetes_validate.utils.latest_version()]


def manifests() -> list[dict]:
    documents = []
    for path in sorted(KUBERNETES_DIR.glob("*.yaml")):
        if path != KUSTOMIZATION:
            documents += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return documents


def one(kind: str) -> dict:
    (found,) = [doc for doc in manifests() if doc["kind"] == kind]
    return found


def deployment_pod() -> dict:
    return one("Deployment")["spec"]["template"]["spec"]


def all_containers() -> list[tuple[str, dict]]:
    """(where, container) for every container the manifests run."""
    pod, job = deployment_pod(), one("Job")["spec"]["template"]["spec"]
    found = [(f"Deployment {c['name']}", c) for c in pod["containers"]]
    found += [(f"Deployment init {c['name']}", c) for c in pod.get("initContainers", [])]
    return found + [(f"Job {c['name']}", c) for c in job["containers"]]


def api_container() -> dict:
    (container,) = deployment_pod()["containers"]
    return container


def config_map() -> dict[str, str]:
    return one("ConfigMap")["data"]


def secret_keys() -> set[str]:
    lines = SECRETS_EXAMPLE.read_text().splitlines()
    return {line.split("=")[0] for line in lines if line.strip() and not line.startswith("#")}


def matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_manifest_is_valid_against_the_kubernetes_schemas(version):
    for document in manifests():
        where = f"{document['kind']} {document['metadata']['name']}"
        try:
            kubernetes_validate.validate(document, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{where} is not a valid Kubernetes {version} object: {error.message}")


def test_the_kustomization_applies_every_manifest_and_the_secret():
    kustomization = yaml.safe_load(KUSTOMIZATION.read_text())
    files = {p.name for p in KUBERNETES_DIR.glob("*.yaml")} - {KUSTOMIZATION.name}
    (secret,) = kustomization["secretGenerator"]

    assert set(kustomization["resources"]) == files, "kustomization.yaml must list every file"
    assert secret["envs"] == ["secrets.env"]
    assert [image["name"] for image in kustomization["images"]] == [api_container()["image"]]


def test_the_probes_ask_the_routes_the_app_has_on_the_image_port():
    container, routes = api_container(), get_routes()
    (port,) = container["ports"]
    allowed_hosts = config_map()["ALLOWED_HOSTS"].split(",")
    probes = {kind: container[kind]["httpGet"] for kind in ("startupProbe", "livenessProbe")}
    probes["readinessProbe"] = container["readinessProbe"]["httpGet"]

    assert port["containerPort"] == image_port(), "the container port is the image's EXPOSE"
    assert probes["startupProbe"]["path"] == probes["livenessProbe"]["path"] == "/health/live"
    assert probes["readinessProbe"]["path"] == "/health/ready", (
        "readiness checks PostgreSQL and Redis: a pod without them gets no traffic"
    )
    for kind, probe in probes.items():
        assert probe["path"] in routes, f"{kind} asks {probe['path']}, a route the app lacks"
        assert probe["port"] in {port["name"], port["containerPort"]}, kind
        hosts = [h["value"] for h in probe.get("httpHeaders", []) if h["name"] == "Host"]
        assert hosts, f"{kind} sends the pod's IP as Host: TrustedHostMiddleware answers 400"
        assert hosts[0] in allowed_hosts, f"{kind}'s Host {hosts[0]} is not in ALLOWED_HOSTS"


def test_every_container_runs_unprivileged_with_limits():
    pod = deployment_pod()

    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == image_user(), "the image's USER"
    assert pod["automountServiceAccountToken"] is False, "the app never calls the API server"
    for where, container in all_containers():
        security = container["securityContext"]
        assert security["allowPrivilegeEscalation"] is False, where
        assert security["readOnlyRootFilesystem"] is True, where
        assert security["capabilities"]["drop"] == ["ALL"], where
        for kind in ("requests", "limits"):
            assert set(container["resources"][kind]) == {"cpu", "memory"}, f"{where} {kind}"


def test_the_metrics_directory_is_a_memory_volume_where_the_image_says():
    mounts = {m["mountPath"]: m["name"] for m in api_container()["volumeMounts"]}
    volumes = {v["name"]: v for v in deployment_pod()["volumes"]}
    directory = image_environment()["PROMETHEUS_MULTIPROC_DIR"]

    assert directory in mounts, f"nothing is mounted at {directory}: the root is read-only"
    assert volumes[mounts[directory]]["emptyDir"]["medium"] == "Memory"


def test_termination_waits_for_the_pre_stop_pause_and_uvicorns_graceful_shutdown():
    pause = api_container()["lifecycle"]["preStop"]["exec"]["command"]
    pause_seconds = int(pause[-1]) if pause[0] == "sleep" else 0
    needed = pause_seconds + graceful_shutdown_seconds()

    assert deployment_pod()["terminationGracePeriodSeconds"] > needed, (
        f"the kubelet kills the pod before the pre-stop pause and uvicorn's "
        f"{graceful_shutdown_seconds()} s of graceful shutdown ({needed} s) are over"
    )


def test_every_environment_name_is_a_setting_and_secrets_come_from_the_secret():
    names, secret = setting_names(), secret_keys()
    generated = yaml.safe_load(KUSTOMIZATION.read_text())["secretGenerator"][0]["name"]

    assert set(config_map()) <= names, f"not settings: {set(config_map()) - names}"
    assert secret <= names, f"not settings: {secret - names}"
    assert secret_setting_names() <= secret, "every SecretStr setting comes from the Secret"
    assert not secret_setting_names() & set(config_map()), "a secret in the ConfigMap"
    assert {"DATABASE_URL", "REDIS_URL"} <= secret, "URLs carry passwords: the Secret"
    for where, container in all_containers():
        sources = {next(iter(s.values()))["name"] for s in container["envFrom"]}
        assert sources == {one("ConfigMap")["metadata"]["name"], generated}, where


def test_the_settings_are_valid_in_production():
    values = {name.lower(): value for name, value in config_map().items()}
    filled_in = {"secret_key": "k" * 48, "metrics_token": "m" * 24}

    settings = Settings(_env_file=None, **values, **filled_in)

    assert settings.is_production
    assert not settings.serves_api_docs, "production publishes no API docs"
    assert config_map()["FORWARDED_ALLOW_IPS"] not in {"*", "127.0.0.1"}


def test_the_autoscaler_stays_within_postgresqls_connection_budget():
    hpa, data = one("HorizontalPodAutoscaler")["spec"], config_map()
    per_pod = int(data["WEB_CONCURRENCY"]) * per_worker_connections(data)

    assert hpa["scaleTargetRef"]["name"] == one("Deployment")["metadata"]["name"]
    assert hpa["minReplicas"] == one("Deployment")["spec"]["replicas"] == 3
    assert hpa["maxReplicas"] * per_pod <= POSTGRES_CONNECTIONS_FOR_APPS, (
        f"{hpa['maxReplicas']} pods x {per_pod} connections is over PostgreSQL's "
        f"{POSTGRES_CONNECTIONS_FOR_APPS}: smaller pools, fewer pods or a pooler"
    )
    (metric,) = hpa["metrics"]
    assert metric["resource"]["name"] == "cpu"


def test_the_service_budget_and_policy_select_the_api_pods_only():
    pods = one("Deployment")["spec"]["template"]["metadata"]["labels"]
    job_pods = one("Job")["spec"]["template"]["metadata"]["labels"]
    selectors = {
        "Service": one("Service")["spec"]["selector"],
        "PodDisruptionBudget": one("PodDisruptionBudget")["spec"]["selector"]["matchLabels"],
        "NetworkPolicy": one("NetworkPolicy")["spec"]["podSelector"]["matchLabels"],
    }

    for kind, selector in selectors.items():
        assert matches(selector, pods), f"the {kind} misses the API's pods"
        assert not matches(selector, job_pods), f"the {kind} takes in the migration's pod"
    assert (
        one("PodDisruptionBudget")["spec"]["minAvailable"] < one("Deployment")["spec"]["replicas"]
    ), "a budget as large as the replicas blocks every node drain"


def test_the_ingress_reaches_the_service_and_only_the_ingress_reaches_the_pods():
    service = one("Service")
    (port,) = service["spec"]["ports"]
    (rule,) = one("Ingress")["spec"]["rules"]
    backend = rule["http"]["paths"][0]["backend"]["service"]
    policy = one("NetworkPolicy")["spec"]
    (allowed,) = policy["ingress"]
    (source,) = allowed["from"]

    assert backend["name"] == service["metadata"]["name"]
    assert backend["port"]["name"] == port["name"]
    assert port["targetPort"] == api_container()["ports"][0]["name"]
    assert rule["host"] in config_map()["ALLOWED_HOSTS"].split(",")
    assert policy["policyTypes"] == ["Ingress"]
    assert "ingress" in source["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]


def test_migrations_run_in_a_job_and_the_pods_wait_for_them():
    (migrate,) = one("Job")["spec"]["template"]["spec"]["containers"]
    (wait,) = deployment_pod()["initContainers"]

    assert migrate["command"] == compose_services()["migrate"]["command"]
    assert migrate["image"] == wait["image"] == api_container()["image"], "one release, one image"
    assert re.search(r"alembic current .*\(head\)", " ".join(wait["command"])), (
        "the pods must wait until the database is at this release's head"
    )
