"""`workshop serve` on a shared classroom server: each clone (and each chapter) has its own
database and Redis prefix, two `serve` started at once take turns migrating, and a database
stamped at head without its tables is reported with the fix (issue 18 item 3, issue 19
item 7)."""

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest

from localservices import delete_namespace, plain_postgres_url
from workshop import participant
from workshop import serve as serve_module
from workshop.manifest import ROOT_ENV

PASSWORD = "correct horse battery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def on_server(server_url: str, query: str) -> list:
    async def run() -> list:
        connection = await asyncpg.connect(plain_postgres_url(server_url), timeout=10)
        try:
            return [tuple(row) for row in await connection.fetch(query)]
        finally:
            await connection.close()

    return asyncio.run(run())


@pytest.fixture
def services_env(postgres_service, redis_service) -> dict[str, str]:
    return {
        "WORKSHOP_POSTGRES_URL": postgres_service.url,
        "WORKSHOP_REDIS_URL": redis_service.url,
    }


@pytest.fixture
def cleanup(postgres_service, redis_service):
    """Drops the databases and Redis keys that the test's `serve` runs made."""
    made: list[tuple[Path, str]] = []
    yield made
    for root, tree in made:
        name = participant.database_name(root, tree)
        on_server(postgres_service.url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        delete_namespace(redis_service.url, participant.redis_prefix(root, tree))


@contextmanager
def serving(root: Path, chapter: str, env: dict[str, str], *, count: int = 1):
    """`workshop serve CHAPTER` from a clone, `count` of them started at once, each on a free
    port, until the block ends; yields their base URLs."""
    servers = []
    for _ in range(count):
        port = free_port()
        command = [sys.executable, "-m", "workshop", "serve", chapter, "--port", str(port)]
        process = subprocess.Popen(
            [*command, "--no-reload"],
            env=dict(os.environ, **{ROOT_ENV: str(root)}, **env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        servers.append((process, f"http://127.0.0.1:{port}"))
    try:
        for process, base in servers:
            wait_until_up(process, base)
        yield [base for _, base in servers]
    finally:
        for process, _ in servers:
            process.send_signal(signal.SIGTERM)
        for process, _ in servers:
            process.communicate(timeout=60)


def wait_until_up(process: subprocess.Popen, base: str) -> None:
    deadline = time.monotonic() + 120
    while True:
        assert process.poll() is None, process.communicate()[0]
        assert time.monotonic() < deadline, f"{base} did not answer within 120 s"
        try:
            httpx.get(f"{base}/health/live", timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.2)  # polling a server that is starting, not a timing assertion


def second_clone(first: Path, tmp_path: Path) -> Path:
    clone = tmp_path / "second" / "workshop"
    shutil.copytree(first, clone, symlinks=True)
    return clone


@pytest.mark.slow  # two servers, a minute of the loop on a busy machine
def test_two_clones_on_one_server_never_meet(
    workshop_root, solve_chapter, tmp_path, services_env, cleanup
):
    solve_chapter("04-auth")
    other_root = second_clone(workshop_root, tmp_path)
    cleanup += [(workshop_root, "04-auth"), (other_root, "04-auth")]
    env = dict(services_env, WORKSHOP_PARTICIPANT="")  # each clone is told apart by itself
    assert participant.database_name(workshop_root, "04-auth") != participant.database_name(
        other_root, "04-auth"
    )
    user = {"email": "ada@example.com", "full_name": "Ada", "password": PASSWORD}
    wrong = {"username": user["email"], "password": "not the password"}
    right = {"username": user["email"], "password": PASSWORD}

    with (
        serving(workshop_root, "04", env) as (first,),
        serving(other_root, "04", env) as (second,),
    ):
        registered = [
            httpx.post(f"{base}/users", json=user, timeout=30) for base in (first, second)
        ]
        wrong_logins = [
            httpx.post(f"{first}/auth/token", data=wrong, timeout=30).status_code for _ in range(12)
        ]
        login_on_second = httpx.post(f"{second}/auth/token", data=right, timeout=30)

    assert [r.status_code for r in registered] == [201, 201], (
        f"the same email registers on both clones: {[r.text for r in registered]}"
    )
    assert wrong_logins[-1] == 429, f"the first clone limits its own logins: {wrong_logins}"
    assert login_on_second.status_code == 200, (
        f"the second clone's login is not limited by the first's: {login_on_second.status_code} "
        f"{login_on_second.headers.get('retry-after')}"
    )


def test_each_chapter_of_a_clone_has_its_own_database_and_prefix(workshop_root):
    names = {participant.database_name(workshop_root, tree) for tree in ("03-cache", "04-auth")}
    prefixes = {participant.redis_prefix(workshop_root, tree) for tree in ("03-cache", "04-auth")}

    assert len(names) == len(prefixes) == 2
    for name in names:
        assert len(name) <= participant.POSTGRES_MAX_NAME
        assert name == name.lower()


@pytest.mark.slow  # two servers migrating at once
def test_two_serves_started_at_once_take_turns_migrating(
    workshop_root, solve_chapter, services_env, cleanup
):
    solve_chapter("05-errors")
    cleanup.append((workshop_root, "05-errors"))
    env = dict(services_env, WORKSHOP_PARTICIPANT="")

    with serving(workshop_root, "05", env, count=2) as bases:
        answers = [
            httpx.post(
                f"{base}/users",
                json={"email": f"user{index}@example.com", "full_name": "U", "password": PASSWORD},
                timeout=30,
            ).status_code
            for index, base in enumerate(bases)
        ]

    assert answers == [201, 201], "both servers came up on one freshly created database"


def test_a_database_at_head_without_its_tables_is_reported_with_the_fix(
    workshop_root, solve_chapter, services_env, cleanup
):
    # Chapter 02 solved but for its migration, still the starter's empty one: `upgrade head`
    # stamps the database without creating the users table the models declare.
    solve_chapter("02-database")
    migrations = workshop_root / "chapters/02-database/migrations/versions"
    subprocess.run(["git", "-C", str(workshop_root), "checkout", "--", str(migrations)], check=True)
    cleanup.append((workshop_root, "02-database"))
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "workshop", "serve", "02", "--port", str(port), "--no-reload"],
        env=dict(os.environ, **{ROOT_ENV: str(workshop_root)}, **services_env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until_up(process, f"http://127.0.0.1:{port}")  # the warning comes before
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=60)[0]

    name = participant.database_name(workshop_root, "02-database")
    assert f"The database {name} is at the latest migration (head) but has no users table" in (
        output
    ), output
    assert (
        "`uv run alembic stamp base` in chapters/02-database/ with DATABASE_URL=postgresql+asyncpg://"
        in (output)
    )
    assert f"/{name} uv run alembic stamp base`" in output, "a command to copy, for bash"


def test_serve_waits_while_another_holds_the_migration_lock(
    workshop_root, solve_chapter, services_env, cleanup, postgres_service
):
    solve_chapter("05-errors")
    cleanup.append((workshop_root, "05-errors"))
    env = dict(services_env, WORKSHOP_PARTICIPANT="")
    name = participant.database_name(workshop_root, "05-errors")

    port = free_port()

    async def serve_while_the_lock_is_held() -> tuple[subprocess.Popen, list[str]]:
        connection = await asyncpg.connect(plain_postgres_url(postgres_service.url))
        try:
            await connection.execute("SELECT pg_advisory_lock($1)", serve_module._lock_key(name))
            process = await asyncio.to_thread(
                subprocess.Popen,
                [
                    sys.executable,
                    "-m",
                    "workshop",
                    "serve",
                    "05",
                    "--port",
                    str(port),
                    "--no-reload",
                ],
                env=dict(os.environ, **{ROOT_ENV: str(workshop_root)}, **env),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for _ in range(600):  # polling pg_locks until serve waits, not a timing assertion
                if await waiting_for_lock(connection):
                    break
                await asyncio.sleep(0.2)
            return process, [row[0] for row in await connection.fetch(DATABASES, name)]
        finally:
            await connection.close()  # releases the lock: serve goes on

    process, databases_while_waiting = asyncio.run(serve_while_the_lock_is_held())
    try:
        wait_until_up(process, f"http://127.0.0.1:{port}")
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=60)[0]

    assert databases_while_waiting == [], "nothing is created before the lock is granted"
    assert "Another `workshop serve` is migrating this database: waiting for it." in output


DATABASES = "SELECT datname FROM pg_database WHERE datname = $1"


async def waiting_for_lock(connection) -> bool:
    """Someone (the serve under test) waits for an advisory lock that is not granted."""
    waiting = await connection.fetchval(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
    )
    return waiting > 0
