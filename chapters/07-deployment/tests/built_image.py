"""Building the chapter's image and running it, when this machine has a container engine
(Docker, or Podman). Without one, the tests that need it say so in the report and rest on
the checks of the files alone (deploy_files.py)."""

import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from uuid import uuid4

import pytest
from deploy_files import CHAPTER

import workshop
from workshop.engine import Engine, find_engine

# The `project` build context: the repository root, where pyproject.toml and uv.lock live.
REPOSITORY = Path(workshop.__file__).resolve().parents[1]
IMAGE_TAG = "localhost/workshop-check/users-service:07"
NOT_BUILT = (
    "The image was not built and the stack not started: no container engine (Docker or "
    "Podman) answers here, so chapter 07 was checked from its files alone. What only a real "
    "build and run prove is listed in the chapter's README."
)


def engine_or_note(workshop_note) -> Engine | None:
    engine = find_engine()
    if engine is None:
        workshop_note(NOT_BUILT)
    return engine


def build_failure(output: str) -> str:
    """The lines of a build's output that say what went wrong."""
    lines = output.strip().splitlines()
    errors = [line for line in lines if "error" in line.lower() or "not found" in line.lower()]
    return "\n".join((errors or lines)[-6:])


def image_id(engine: Engine, image: str) -> str | None:
    found = engine.run("image", "inspect", "--format", "{{.Id}}", image, check=False, timeout=30)
    return (found.stdout.strip() or None) if found.returncode == 0 else None


@contextmanager
def replacing(engine: Engine, images: Iterable[str]) -> Iterator[None]:
    """Builds that move these names to new images: an image a name left is removed once it
    has no name at all, or every check that changed a file would leave one more `<none>`
    behind. One with another name, or still used by a container, stays."""
    before = {name: image_id(engine, name) for name in images}
    try:
        yield
    finally:
        for name, old in before.items():
            if not old or image_id(engine, name) == old:
                continue
            names = engine.run(
                "image", "inspect", "--format", "{{len .RepoTags}}", old, check=False, timeout=30
            )
            if names.returncode == 0 and names.stdout.strip() == "0":
                engine.run("rmi", old, check=False, timeout=60)


def build_image(engine: Engine) -> str:
    with replacing(engine, [IMAGE_TAG]):
        built = engine.build(CHAPTER, tag=IMAGE_TAG, build_contexts={"project": REPOSITORY})
    assert built.returncode == 0, (
        f"The Dockerfile does not build ({engine.name} build exited {built.returncode}):\n"
        f"{build_failure(built.stdout + built.stderr)}\n"
        "Edit the Dockerfile (exercise deployment.dockerfile)."
    )
    return IMAGE_TAG


def for_container(url: str, host: str) -> str:
    """The URL with its loopback host replaced by the address a container reaches it at."""
    parts = urlsplit(url)
    credentials = parts.netloc.rpartition("@")[0]
    netloc = f"{credentials}@{host}" if credentials else host
    return urlunsplit(parts._replace(netloc=f"{netloc}:{parts.port}" if parts.port else netloc))


def run_detached(engine: Engine, image: str, settings) -> str:
    """The image's own command in a container, against this session's PostgreSQL and Redis."""
    network, host = engine.host_access()
    name = f"workshop-check-07-{uuid4().hex[:8]}"
    environment = {
        "DATABASE_URL": for_container(settings.database_url, host),
        "REDIS_URL": for_container(settings.redis_url, host),
        "REDIS_KEY_PREFIX": settings.redis_key_prefix,
        "SECRET_KEY": secrets.token_urlsafe(48),
    }
    options = [option for key, value in environment.items() for option in ("-e", f"{key}={value}")]
    started = engine.run("run", "--detach", "--name", name, *network, *options, image, check=False)
    if started.returncode != 0:
        engine.remove(name)
        pytest.fail(f"The image does not start:\n{started.stdout}{started.stderr}")
    return name
