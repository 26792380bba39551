"""`workshop doctor`: is the environment ready? And when something fails: the set-up or the code?

Environment checks (Python, dependencies, the services the chapters need) decide the verdict;
a failure there exits 3. Free ports only warn. The last check imports the learner's current
chapter: when that fails, the environment is fine and the code is at fault (exit 1).

Services: with no chapter given, the doctor checks every service some chapter needs, because
an instructor's pre-flight must cover the whole workshop. `workshop doctor 01` checks only
what chapter 01 needs. Each service line says which kind of server answered (local, from the
environment, embedded), and the doctor tries what the chapters do with it: a Lua script on
Redis (the login rate limiter) and a database of its own on PostgreSQL (every test run makes
one), so a server that answers a ping but cannot do those is found before the room is.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
from contextlib import closing, suppress
from dataclasses import dataclass
from pathlib import Path

import localservices as services
from workshop import checking, engine
from workshop.manifest import Chapter, Manifest

MIN_PYTHON = (3, 11)
# What the chapters and the tests import, by import name.
DEPENDENCIES = (
    "fastapi",
    "uvicorn",
    "sqlalchemy",
    "asyncpg",
    "redis",
    "pydantic_settings",
    "jose",
    "pwdlib",
    "alembic",
    "httpx",
    "pytest",
    "pytest_asyncio",
    "asgi_lifespan",
    "locust",
)
# Ports the workshop binds: `workshop serve` and Locust's web UI.
PORTS = {8000: "workshop serve", 8089: "Locust's web UI"}
SERVICE_LABELS = {"postgres": "PostgreSQL", "redis": "Redis"}


@dataclass(frozen=True)
class Finding:
    name: str
    status: str  # passed, failing, warning, info
    detail: str
    about: str = "environment"  # "environment" or "code"


def run_doctor(
    manifest: Manifest, *, chapter: Chapter | None, code_chapter: Chapter | None
) -> list[Finding]:
    findings = [_python(), _dependencies()]
    needed = chapter.services if chapter else manifest.services
    for name in ("postgres", "redis"):
        finding, found = _service(name, needed, chapter)
        findings.append(finding)
        if found is not None:
            findings.append(PROBES[name](found))
    findings += [_port(port, what) for port, what in PORTS.items()]
    findings.append(_container_engine())
    if code_chapter is not None:
        findings.append(_code_imports(manifest.root / code_chapter.directory, code_chapter))
    return findings


def _python() -> Finding:
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info[:2] >= MIN_PYTHON:
        return Finding("Python", "passed", f"Python {version}")
    wanted = ".".join(map(str, MIN_PYTHON))
    return Finding(
        "Python", "failing", f"Python {version} is too old: the workshop needs {wanted} or newer"
    )


def _dependencies() -> Finding:
    missing = [name for name in DEPENDENCIES if importlib.util.find_spec(name) is None]
    if not missing:
        return Finding("Dependencies", "passed", f"{len(DEPENDENCIES)} packages importable")
    return Finding(
        "Dependencies",
        "failing",
        f"missing {', '.join(missing)}: run `uv sync` in the repository, then try again",
    )


def _service(
    name: str, needed: tuple[str, ...], chapter: Chapter | None
) -> tuple[Finding, services.Service | None]:
    label = SERVICE_LABELS[name]
    if name not in needed:
        scope = f"chapter {chapter.number}" if chapter else "any chapter"
        return Finding(label, "info", f"not needed by {scope}"), None
    try:
        (found,) = checking.resolve_services((name,))
    except services.ServiceUnavailable as error:
        return Finding(label, "failing", str(error)), None
    return Finding(label, "passed", f"{found.source} server: {found.describe()}"), found


# --- what the chapters do with the services ---------------------------------------------------

LUA_PROBE = "return redis.call('INCR', KEYS[1])"


def _redis_scripts(service: services.Service) -> Finding:
    """Run a Lua script as redis-py runs the login limiter's: by its SHA, answered NOSCRIPT
    the first time, then loaded and run on the same connection. A server that drops the
    connection after an error reply (fakeredis' own TCP server did) fails the limiter now and
    then, as redis-py's retries hide it only sometimes: so that is tried on one connection."""
    import redis

    name = "Redis scripts"
    key = services.new_namespace("doctor") + "probe"
    try:
        if not _error_reply_keeps_the_connection(service.url):
            return Finding(
                name,
                "failing",
                "this Redis closes the connection after an error reply, so the login rate "
                "limiter of chapter 04 fails (its script is first answered NOSCRIPT): use a "
                "real Redis 6 or newer",
            )
        with closing(redis.Redis.from_url(service.url, socket_timeout=5)) as client:
            script = client.register_script(LUA_PROBE)
            counts = [script(keys=[key]) for _ in range(2)]
            client.delete(key)
    except Exception as error:
        return Finding(
            name,
            "failing",
            f"a Lua script fails on this Redis ({type(error).__name__}: {error}); the login "
            "rate limiter of chapter 04 needs scripts: use a real Redis 6 or newer",
        )
    if counts != [1, 2]:
        return Finding(name, "failing", f"a Lua script answered {counts}, not [1, 2]")
    return Finding(name, "passed", "a Lua script runs (chapter 04's login rate limiter)")


def _error_reply_keeps_the_connection(url: str) -> bool:
    """NOSCRIPT, then PING on the same connection, with no retry to paper over a close."""
    import redis

    connection = redis.ConnectionPool.from_url(url, socket_timeout=5).make_connection()
    try:
        connection.send_command("EVALSHA", "0" * 40, 0)
        with suppress(redis.ResponseError):  # NOSCRIPT: the reply expected
            connection.read_response()
        connection.send_command("PING")
        return connection.read_response() in (b"PONG", "PONG", True)
    except redis.ConnectionError:
        return False
    finally:
        connection.disconnect()


def _database_creation(service: services.Service) -> Finding:
    """May this role create databases, as every test run and `workshop serve` do?"""
    name = "New databases"
    try:
        right = services.can_create_databases(service.url)
    except Exception as error:  # the server answered the probe before; say what it says now
        return Finding(
            name, "failing", f"asking PostgreSQL failed: {type(error).__name__}: {error}"
        )
    if not right:
        return Finding(name, "failing", str(right.problem))
    return Finding(name, "passed", f'the role "{right.role}" may create databases')


PROBES = {"postgres": _database_creation, "redis": _redis_scripts}


def _port(port: int, what: str) -> Finding:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        in_use = sock.connect_ex(("127.0.0.1", port)) == 0
    if in_use:
        return Finding(
            f"Port {port}",
            "warning",
            f"in use, so {what} needs another one (`--port`); stop whatever holds it otherwise",
        )
    return Finding(f"Port {port}", "passed", f"free for {what}")


def _container_engine() -> Finding:
    """Optional: with Docker or Podman, chapter 07's check builds and runs the image."""
    found = engine.find_engine()
    if found is None:
        return Finding(
            "Container engine",
            "info",
            "no Docker or Podman answers: chapter 07 is checked from its files, without "
            "building the image",
        )
    return Finding(
        "Container engine",
        "passed",
        f"{found.describe()}: chapter 07's check builds and runs the image",
    )


def _code_imports(workspace: Path, chapter: Chapter) -> Finding:
    """Import the chapter's app and build it, in a process of its own (like `workshop check`)."""
    name = f"Your code ({chapter.directory})"
    if not workspace.is_dir():
        return Finding(name, "info", "not in this checkout yet", about="code")
    probe = "from app.main import create_app; create_app()"
    env = dict(os.environ, PYTHONPATH=str(workspace))
    completed = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if completed.returncode == 0:
        return Finding(name, "passed", "the app imports and builds", about="code")
    last_line = (completed.stderr.strip().splitlines() or ["no output"])[-1]
    return Finding(name, "failing", f"the app does not import: {last_line}", about="code")
