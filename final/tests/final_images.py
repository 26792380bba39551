"""Helpers of the tests that build and run the finished service's image (marked slow): the
engine, the image built as docker-compose.yml builds it, URLs a container can use, and the
journey every running copy of the service must answer."""

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from uuid import uuid4

import httpx
import pytest
import yaml

from workshop.engine import Engine, find_engine

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
IMAGE_TAG = "localhost/workshop-test/users-service:latest"


def engine_or_skip() -> Engine:
    """The container engine; CI installs one, so there its absence fails instead of skipping."""
    engine = find_engine()
    if engine is None:
        message = "no container engine (Docker or Podman) answers: the image cannot be built"
        if os.environ.get("CI"):
            pytest.fail(f"{message}. .ci/run installs Podman; see containers/README.md.")
        pytest.skip(message)
    return engine


def compose_services() -> dict[str, dict]:
    return yaml.safe_load(COMPOSE_FILE.read_text())["services"]


def compose_build() -> tuple[Path, Path]:
    """(context, Dockerfile) of the service that builds the image in docker-compose.yml."""
    builders = [s["build"] for s in compose_services().values() if isinstance(s.get("build"), dict)]
    assert builders, "docker-compose.yml has no service with a build: section"
    context = (COMPOSE_FILE.parent / builders[0].get("context", ".")).resolve()
    return context, context / builders[0].get("dockerfile", "Dockerfile")


def build_service_image(engine: Engine, tag: str = IMAGE_TAG) -> str:
    context, dockerfile = compose_build()
    replaced = engine.run("image", "inspect", "--format", "{{.Id}}", tag, check=False)
    built = engine.build(context, dockerfile=dockerfile, tag=tag)
    assert built.returncode == 0, (
        f"Building {dockerfile.relative_to(REPO_ROOT)} failed:\n{built.stdout[-4000:]}"
        f"{built.stderr[-4000:]}"
    )
    new_id = engine.run("image", "inspect", "--format", "{{.Id}}", tag).stdout.strip()
    if replaced.returncode == 0 and replaced.stdout.strip() != new_id:
        # The previous build of this tag, untagged now: it would pile up on CI's machine.
        engine.run("image", "rm", replaced.stdout.strip(), check=False)
    return tag


def for_container(url: str, host: str) -> str:
    """The URL with a loopback host replaced by the address a container reaches it at."""
    parts = urlsplit(url)
    if parts.hostname not in {"127.0.0.1", "localhost", "::1"}:
        return url
    credentials = parts.netloc.rpartition("@")[0]
    netloc = f"{credentials}@{host}" if credentials else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def production_secret() -> str:
    return secrets.token_urlsafe(48)


def unique_name(label: str) -> str:
    return f"workshop-test-{label}-{uuid4().hex[:8]}"


def register_login_and_read(base_url: str) -> dict:
    """Register, log in (OAuth2 form), read /users/me with the token; the profile read."""
    email = f"image-{uuid4().hex[:10]}@example.com"
    password = "correct horse battery staple"
    with httpx.Client(base_url=base_url, timeout=60) as client:
        registered = client.post("/users", json={"email": email, "password": password})
        assert registered.status_code == 201, (
            f"POST /users: {registered.status_code} {registered.text}"
        )
        login = client.post("/auth/token", data={"username": email, "password": password})
        assert login.status_code == 200, f"POST /auth/token: {login.status_code} {login.text}"
        token = login.json()["access_token"]
        me = client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200, f"GET /users/me: {me.status_code} {me.text}"
    assert me.json()["email"] == email, me.json()
    return me.json()
