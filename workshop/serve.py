"""`workshop serve N|final`: run a chapter's service, or the finished one, against real services.

The steps a developer would type by hand: find PostgreSQL and Redis, create the code tree's
own database if it is missing, apply the migrations when the code tree has Alembic, then start
`uvicorn app.main:create_app --factory` from the code tree with the URLs in its environment.

What it keeps on the servers belongs to one participant and one code tree (see
workshop.participant): the database `workshop_<participant>_<tree>` and the Redis prefix
`workshop:<participant>:<tree>:`, so learners sharing a classroom server never meet, and a
chapter never trips over another's migration history. The migrations run under a PostgreSQL
advisory lock, so two `serve` started at once on one database take turns instead of racing
on `alembic_version`.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import localservices as services
from workshop import checking, participant
from workshop.console import out

LOCK_NAMESPACE = "workshop serve: alembic upgrade head"
# The clone's own signing key for what `serve` runs, made once, kept out of git: with the
# public default (`change-me`) anyone who can reach the server could sign tokens for it.
SECRET_KEY_FILE = Path(".workshop/serve-secret-key")
# What PostgreSQL says when the role lacks a right: the environment, not the code.
PERMISSION_DENIED = ("permission denied", "InsufficientPrivilege", "must be owner of")


class ServeProblem(RuntimeError):
    """A step before the server starts failed; `environment` says whose fault it is."""

    def __init__(self, message: str, *, environment: bool) -> None:
        super().__init__(message)
        self.environment = environment


@dataclass(frozen=True)
class ServeTarget:
    label: str  # "chapter 01" or "the finished service"
    code_dir: Path
    services: tuple[str, ...]
    final: bool
    root: Path  # the clone: who the participant is

    @property
    def tree(self) -> str:
        """`04-auth` or `final`: the code tree's name in databases and Redis prefixes."""
        return self.code_dir.name

    @property
    def database_name(self) -> str:
        """A database per participant and code tree: the trees' migration histories differ."""
        return participant.database_name(self.root, self.tree)

    @property
    def redis_prefix(self) -> str:
        return participant.redis_prefix(self.root, self.tree)


def clone_secret_key(root: Path) -> str:
    """The clone's random signing key, made on first use (readable by its owner only)."""
    path = root / SECRET_KEY_FILE
    if path.is_file() and len(key := path.read_text(encoding="utf-8").strip()) >= 32:
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(key + "\n", encoding="utf-8")
    return key


def _secret_key_configured(code_dir: Path) -> bool:
    """Did the learner choose a key: in the environment, or in the code tree's `.env`?"""
    if os.environ.get("SECRET_KEY"):
        return True
    dotenv = code_dir / ".env"
    return dotenv.is_file() and any(
        line.strip().startswith("SECRET_KEY=") for line in dotenv.read_text().splitlines()
    )


def port_is_free(host: str, port: int) -> bool:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def prepare(target: ServeTarget) -> dict[str, str]:
    """The environment of the server (resolved URLs, the tree's database and Redis prefix,
    development mode), with the database created and migrated.

    Creating and migrating happen under one advisory lock per database, so two `serve`
    started at once take turns. Raises services.ServiceUnavailable when a needed server
    cannot be found, ServeProblem when the database cannot be made or migrated.
    """
    found = checking.resolve_services(target.services)
    if found:
        out(services.announce(*found))
    env = checking.service_environment(found)
    env["ENVIRONMENT"] = "development"
    if not _secret_key_configured(target.code_dir):
        env["SECRET_KEY"] = clone_secret_key(target.root)
        out(f"SECRET_KEY: this clone's own random key ({SECRET_KEY_FILE})")
    postgres = next((service for service in found if service.name == "PostgreSQL"), None)
    for service in found:
        if service.name == "Redis":
            env["REDIS_URL"] = service.url
            env["REDIS_KEY_PREFIX"] = target.redis_prefix
            out(f"Your Redis keys: {target.redis_prefix}*")
    if postgres is not None:
        with migration_lock(postgres.url, target.database_name):
            env["DATABASE_URL"] = _database(postgres, target.database_name)
            out(f"Your database: {target.database_name}")
            migrate(target, env)
    return env


def _database(service: services.Service, name: str) -> str:
    """Create it unless it exists (race-free); a role that may not create databases raises
    localservices' DatabaseCreationRefused, a ServiceUnavailable with the administrator's
    sentence (exit 3)."""
    return services.ensure_database(service.url, name)


# --- migrations -------------------------------------------------------------------------------


def migrate(target: ServeTarget, env: dict[str, str]) -> None:
    """`alembic upgrade head` when the code tree has Alembic (called under the lock).
    Raises ServeProblem (environment or code) when it fails."""
    if not (target.code_dir / "alembic.ini").is_file():
        return
    out("Applying migrations: alembic upgrade head")
    command = [sys.executable, "-m", "alembic", "upgrade", "head"]
    completed = subprocess.run(
        command, cwd=target.code_dir, env=env, capture_output=True, text=True, check=False
    )
    sys.stdout.write(completed.stdout)
    sys.stderr.write(completed.stderr)
    if completed.returncode == 0:
        return
    output = completed.stdout + completed.stderr
    if any(marker in output for marker in PERMISSION_DENIED):
        raise ServeProblem(
            f"The migrations were refused a right on {target.database_name} (see above: "
            "permission denied). This is the server's set-up, not your code: the role needs "
            "to own the database, or to be allowed CREATE on its schema.",
            environment=True,
        )
    raise ServeProblem(
        "The migrations failed (see above, the last lines name the file): fix them, then "
        "serve again.",
        environment=False,
    )


@contextmanager
def migration_lock(server_url: str, database: str) -> Iterator[None]:
    """Hold a PostgreSQL advisory lock named after the database (taken on the server's own
    database, which every `serve` of this server connects to, as advisory locks live in one
    database) while creating and migrating: a second `serve` waits here until the first is
    done, then finds nothing left to do."""
    import asyncpg

    key = _lock_key(database)
    loop = asyncio.new_event_loop()
    try:
        connection = loop.run_until_complete(
            asyncpg.connect(services.plain_postgres_url(server_url), timeout=10)
        )
        try:
            got = loop.run_until_complete(
                connection.fetchval("SELECT pg_try_advisory_lock($1)", key)
            )
            if not got:
                out("Another `workshop serve` is migrating this database: waiting for it.")
                loop.run_until_complete(connection.execute("SELECT pg_advisory_lock($1)", key))
            yield
        finally:
            loop.run_until_complete(connection.close())  # the session's lock goes with it
    finally:
        loop.close()


def _lock_key(database: str) -> int:
    """A signed 64-bit key, the same in every process for one database."""
    digest = hashlib.sha256(f"{LOCK_NAMESPACE}:{database}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def missing_tables(target: ServeTarget, env: dict[str, str]) -> str | None:
    """After `upgrade head`: tables the models declare that the database lacks, said with
    the fix. A database stamped at head by a migration that was empty when it ran has its
    version row but not its tables, and Alembic will not run that migration again."""
    if not (target.code_dir / "alembic.ini").is_file():
        return None
    completed = subprocess.run(
        [sys.executable, "-m", "alembic", "check"],
        cwd=target.code_dir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    text = completed.stdout + completed.stderr
    tables = sorted(set(_added_tables(text)))
    if not tables:
        return None
    names = ", ".join(tables)
    url = _without_password(env["DATABASE_URL"])
    where = _relative(target.code_dir, target.root)
    return (
        f"The database {target.database_name} is at the latest migration (head) but has no "
        f"{names} table: a migration that was still empty when it ran counts as applied. "
        f"Once the migration creates the table, run `uv run alembic stamp base` in "
        f"{where}/ with DATABASE_URL={url} (in bash: "
        f"`DATABASE_URL={url} uv run alembic stamp base`) and serve again, or drop the "
        f"database {target.database_name}."
    )


def _relative(path: Path, root: Path) -> str:
    """`chapters/02-database`: a path as the learner finds it from the clone's root."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _without_password(url: str) -> str:
    """The URL to show: a password, if any, as `***` (type yours in its place)."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")))


def _added_tables(alembic_check_output: str) -> Iterator[str]:
    """`('add_table', Table('users', ...` in `alembic check`'s list of pending operations."""
    yield from re.findall(r"\('add_table', Table\('([^']+)'", alembic_check_output)


# --- the server -------------------------------------------------------------------------------


def uvicorn_command(
    target: ServeTarget, *, host: str, port: int, workers: int, reload: bool
) -> list[str]:
    command = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory"]
    command += ["--host", host, "--port", str(port)]
    if target.final:
        command += ["--workers", str(workers)]
    elif reload:
        command.append("--reload")  # a learner's edits show up without a restart
    return command


def run_server(target: ServeTarget, command: list[str], env: dict[str, str]) -> int:
    """Run uvicorn until it stops; Ctrl-C or SIGTERM here stops it cleanly (exit status 0)."""
    server = subprocess.Popen(command, cwd=target.code_dir, env=env)

    def forward(signum: int, _frame: object) -> None:
        server.send_signal(signum)

    previous = signal.signal(signal.SIGTERM, forward)
    try:
        status = server.wait()
    except KeyboardInterrupt:
        # The terminal sent SIGINT to uvicorn as well; give it time to finish its requests.
        try:
            status = server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.terminate()
            status = server.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)
    # uvicorn re-raises the stop signal after a graceful shutdown: that is a clean stop.
    return 0 if status in (-signal.SIGTERM, -signal.SIGINT) else status
