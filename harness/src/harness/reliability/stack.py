"""The suite's own stack: a migrated database, a Redis it may stop, and uvicorn servers.

PostgreSQL and Redis are shared with other people's test runs on the same machine, so the
suite never stops or flushes them. It makes a database of its own (and drops it), runs a
Redis server of its own (which it may stop and start at will), and starts the service as
production does: `uvicorn app.main:create_app --factory` in a process of its own.
"""

from __future__ import annotations

import re
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import redis

import localservices as services
from harness.paths import FINAL_DIR
from harness.server import UvicornServer, clean_environment, log_tail
from localservices import free_port

READY_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 20

# Long enough for production mode; the suite's servers are never reachable from outside.
SECRET_KEY = "reliability-suite-secret-key-0123456789-abcdefghij"
# Production serves /metrics only to a scraper holding this token.
METRICS_TOKEN = "reliability-suite-metrics-token"
# Cheap argon2: the suite measures the service's resilience, not the cost of hashing.
FAST_PASSWORD_HASHING = {
    "PASSWORD_HASH_TIME_COST": "1",
    "PASSWORD_HASH_MEMORY_COST_KIB": "1024",
    "PASSWORD_HASH_PARALLELISM": "1",
}
UNREACHABLE_RATE_LIMIT = "1000000"


# --- Redis of our own ----------------------------------------------------------------------

# The embedded fallback, when no redis-server binary is installed: fakeredis on a TCP port.
_FAKE_REDIS_SERVER = """
import sys
from fakeredis import TcpFakeServer
TcpFakeServer(("127.0.0.1", int(sys.argv[1])), server_type="redis").serve_forever()
"""


@dataclass
class OwnRedis:
    """A Redis server only this suite uses, so it may be stopped and started again.

    No persistence (`--save "" --appendonly no`): a restart starts empty, as after a crash
    of a cache-only Redis. Its port stays the same, so the service's clients reconnect.
    """

    log_path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def kind(self) -> str:
        return "redis-server" if shutil.which("redis-server") else "fakeredis (embedded)"

    def command(self) -> list[str]:
        if binary := shutil.which("redis-server"):
            return [
                binary,
                *("--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no"),
                *("--dir", str(self.log_path.parent), "--logfile", ""),
            ]
        return [sys.executable, "-c", _FAKE_REDIS_SERVER, str(self.port)]

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Redis did not start:\n{log_tail(self.log_path)}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop the server (SIGTERM, as an orchestrator does) and wait until it is gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def answers(self) -> bool:
        try:
            with closing(redis.Redis.from_url(self.url, socket_timeout=1)) as client:
                return bool(client.ping())
        except redis.RedisError:
            return False

    def clients(self) -> list[dict[str, str]]:
        """`CLIENT LIST`, without the connection that asks."""
        with closing(redis.Redis.from_url(self.url, socket_timeout=5)) as client:
            me = client.client_id()
            return [entry for entry in client.client_list() if int(entry["id"]) != me]


@contextmanager
def own_redis(log_dir: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(log_path=log_dir / "redis.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- a database of our own ---------------------------------------------------------------


@contextmanager
def migrated_database(server_url: str) -> Iterator[str]:
    """A fresh database on the shared server, migrated to head; dropped at the end."""
    with services.temporary_database(server_url, label="rel") as url:
        result = subprocess.run(
            [sys.executable, "-m", "alembic", "upgrade", "head"],
            cwd=FINAL_DIR,
            env=clean_environment({"DATABASE_URL": url}),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"alembic upgrade head failed:\n{result.stdout}{result.stderr}")
        yield url


# --- the service under test --------------------------------------------------------------


def service_settings(
    *, database_url: str, redis_url: str, key_prefix: str, app_name: str, **overrides: str
) -> dict[str, str]:
    """Production settings for a server of the suite (limits out of reach unless overridden).

    `app_name` is the PostgreSQL `application_name` of every connection: the faults find the
    service's own connections by it, and never touch anyone else's.
    """
    values = {
        "ENVIRONMENT": "production",
        "APP_NAME": app_name,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": key_prefix,
        "SECRET_KEY": SECRET_KEY,
        "METRICS_TOKEN": METRICS_TOKEN,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOGIN_RATE_LIMIT": UNREACHABLE_RATE_LIMIT,
        "WRITE_RATE_LIMIT": UNREACHABLE_RATE_LIMIT,
        "REGISTRATION_RATE_LIMIT": UNREACHABLE_RATE_LIMIT,
        "REFRESH_RATE_LIMIT": UNREACHABLE_RATE_LIMIT,
        "ACCOUNT_LOGIN_FAILURE_LIMIT": UNREACHABLE_RATE_LIMIT,
        "LOG_LEVEL": "WARNING",
        # The faults stop Redis outright (refused at once); a busy shared machine must not
        # stall a reply past the production 0.5 s and fail a check closed outside a fault.
        "REDIS_SOCKET_TIMEOUT_SECONDS": "5",
        **FAST_PASSWORD_HASHING,
    }
    values.update(overrides)
    return values


def production_http_flags() -> list[str]:
    """The image's uvicorn flags for reading requests (final/Dockerfile's CMD), so the suite
    attacks the server as it is shipped: `--http h11 --h11-max-incomplete-event-size N`."""
    command = (FINAL_DIR / "Dockerfile").read_text()
    flags = re.findall(r"(--http|--h11-max-incomplete-event-size) (\S+?)(?=[\s\"])", command)
    return [part for flag in flags for part in flag]


def server(
    name: str, settings: dict[str, str], log_path: Path, *, workers: int = 1
) -> UvicornServer:
    """A uvicorn server of final/ with the flags the image reads requests with."""
    return UvicornServer(
        name=name,
        directory=FINAL_DIR,
        settings=settings,
        log_path=log_path,
        workers=workers,
        flags=("--no-access-log", *production_http_flags()),
    )


# --- the whole stack ---------------------------------------------------------------------


@dataclass
class Stack:
    """The suite's database and Redis (each run keeps its logs in a folder of its own)."""

    postgres_url: str  # the server, where more databases may be made
    database_url: str
    redis: OwnRedis

    def settings(self, label: str, **overrides: str) -> dict[str, str]:
        """Settings for the servers of one run: their own `application_name` (so faults find
        their connections) and their own Redis key prefix."""
        name = f"rel-{label}-{secrets.token_hex(3)}"
        return service_settings(
            database_url=self.database_url,
            redis_url=self.redis.url,
            key_prefix=f"{name}:",
            app_name=name,
            **overrides,
        )

    def server(
        self, name: str, settings: dict[str, str], log_dir: Path, *, workers: int = 1
    ) -> UvicornServer:
        return server(name, settings, log_dir / f"server-{name}.log", workers=workers)


@contextmanager
def suite_stack(postgres_url: str, work_dir: Path) -> Iterator[Stack]:
    """A migrated database of the suite's own and a Redis of its own, removed at the end."""
    work_dir.mkdir(parents=True, exist_ok=True)
    with migrated_database(postgres_url) as database_url, own_redis(work_dir) as redis_server:
        yield Stack(postgres_url, database_url, redis_server)
