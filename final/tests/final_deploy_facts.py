"""What the deployment files must agree with: the image (final/Dockerfile), the app's routes
and its settings (final/app/config.py). The proxy's and the Kubernetes tests read these."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from app.config import Settings
from app.main import create_app

FINAL_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = FINAL_DIR.parent
DOCKERFILE = FINAL_DIR / "Dockerfile"
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
# What uvicorn and prometheus-client read from the environment besides the settings class.
SERVER_ENVIRONMENT = {"WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS", "PROMETHEUS_MULTIPROC_DIR"}
# PostgreSQL's default max_connections, less the 3 it keeps for superusers.
POSTGRES_CONNECTIONS_FOR_APPS = 100 - 3


def image_port() -> int:
    (port,) = re.findall(r"^EXPOSE (\d+)", DOCKERFILE.read_text(), flags=re.MULTILINE)
    return int(port)


def image_user() -> int:
    users = re.findall(r"^USER (\d+):(\d+)", DOCKERFILE.read_text(), flags=re.MULTILINE)
    return int(users[-1][0])


def image_environment() -> dict[str, str]:
    """The ENV the image sets (one ENV instruction, continued over lines)."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    pairs: dict[str, str] = {}
    for line in re.findall(r"^ENV (.+)$", text, flags=re.MULTILINE):
        pairs.update(re.findall(r"(\w+)=(\"[^\"]*\"|\S+)", line))
    return {name: value.strip('"') for name, value in pairs.items()}


def graceful_shutdown_seconds() -> int:
    (seconds,) = re.findall(r"--timeout-graceful-shutdown (\d+)", DOCKERFILE.read_text())
    return int(seconds)


def setting_names() -> set[str]:
    """Every environment name the service reads."""
    return {name.upper() for name in Settings.model_fields} | SERVER_ENVIRONMENT


def secret_setting_names() -> set[str]:
    """Settings typed as secrets (`SecretStr`): they belong in a Secret, never a ConfigMap."""
    return {
        name.upper()
        for name, field in Settings.model_fields.items()
        if "SecretStr" in str(field.annotation)
    }


def get_routes() -> set[str]:
    """The paths the app answers GET on, from its OpenAPI schema."""
    app = create_app(Settings(_env_file=None, environment="test"))
    return {path for path, operations in app.openapi()["paths"].items() if "get" in operations}


def per_worker_connections(environment: dict[str, str]) -> int:
    """The most PostgreSQL connections one worker opens: pool + overflow + read pool."""
    defaults = Settings(_env_file=None)
    names = ("database_pool_size", "database_max_overflow", "database_read_pool_size")
    return sum(int(environment.get(name.upper(), getattr(defaults, name))) for name in names)


def compose_services() -> dict[str, dict]:
    return yaml.safe_load(COMPOSE_FILE.read_text())["services"]


def compose_networks() -> dict[str, dict]:
    return yaml.safe_load(COMPOSE_FILE.read_text())["networks"]
