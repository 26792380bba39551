"""Databases of their own: created without a race, and a role that may not create them is
an environment problem said in one sentence (exit 3 from the command), not a stack trace."""

from __future__ import annotations

import secrets
import subprocess
import threading
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

import localservices
from localservices.running import run_coroutine


def _admin(server_url: str, statement: str) -> None:
    async def execute() -> None:
        connection = await asyncpg.connect(localservices.plain_postgres_url(server_url))
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    run_coroutine(execute)


def _as_role(server_url: str, role: str) -> str:
    """The server URL with another user (the test server trusts local connections)."""
    parts = urlsplit(localservices.plain_postgres_url(server_url))
    netloc = f"{role}@{parts.hostname}:{parts.port or 5432}"
    return urlunsplit(parts._replace(netloc=netloc))


@pytest.fixture
def role_without_createdb(postgres_service: localservices.Service) -> Iterator[str]:
    """A login role that may not create databases; its server URL."""
    role = f"ws_nocreatedb_{secrets.token_hex(3)}"
    _admin(postgres_service.url, f'CREATE ROLE "{role}" LOGIN NOCREATEDB')
    try:
        yield _as_role(postgres_service.url, role)
    finally:
        _admin(postgres_service.url, f'DROP ROLE IF EXISTS "{role}"')


def test_many_processes_creating_one_database_at_once_all_succeed(
    postgres_service: localservices.Service,
) -> None:
    name = f"ws_race_{secrets.token_hex(3)}"
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def create() -> None:
        start.wait()
        try:
            localservices.ensure_database(postgres_service.url, name)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=create) for _ in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        _admin(postgres_service.url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    assert errors == [], (
        "ensure_database raced with itself: it must send CREATE DATABASE and treat "
        f"'already exists' as success, never check first; got {errors!r}"
    )


def test_ensure_database_twice_gives_the_same_url(postgres_service: localservices.Service) -> None:
    name = f"ws_twice_{secrets.token_hex(3)}"
    try:
        first = localservices.ensure_database(postgres_service.url, name)
        second = localservices.ensure_database(postgres_service.url, name)
    finally:
        _admin(postgres_service.url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    assert first == second
    assert first.startswith("postgresql+asyncpg://"), first
    assert first.endswith(f"/{name}"), first


def test_a_role_that_may_not_create_databases_is_named_with_the_fix(
    role_without_createdb: str,
) -> None:
    role = urlsplit(role_without_createdb).username

    with pytest.raises(localservices.DatabaseCreationRefused) as refused:
        localservices.ensure_database(role_without_createdb, f"ws_refused_{secrets.token_hex(3)}")

    message = str(refused.value)
    assert isinstance(refused.value, localservices.ServiceUnavailable), "an environment error"
    assert f'ALTER ROLE "{role}" CREATEDB;' in message, message
    assert message.count(". ") == 0, f"one sentence: {message}"
    assert message.endswith("."), message


def test_the_probe_tells_which_roles_may_create_databases(
    postgres_service: localservices.Service, role_without_createdb: str
) -> None:
    refused = localservices.can_create_databases(role_without_createdb)
    allowed = localservices.can_create_databases(postgres_service.url)

    assert not refused, refused
    assert "CREATEDB" in (refused.problem or ""), refused.problem
    assert allowed, allowed
    assert allowed.problem is None, allowed.problem


def test_a_check_on_a_role_without_createdb_is_an_environment_error(
    run_workshop: Callable[..., subprocess.CompletedProcess[str]],
    role_without_createdb: str,
    redis_service: localservices.Service,
    solve_chapter: Callable[[str], None],
) -> None:
    solve_chapter("02-database")

    finished = run_workshop(
        "check",
        "02",
        env={
            localservices.POSTGRES_URL_ENV: role_without_createdb,
            localservices.REDIS_URL_ENV: redis_service.url,
        },
    )

    output = finished.stdout + finished.stderr
    assert finished.returncode == 3, f"exit 3 (environment), got {finished.returncode}:\n{output}"
    assert "may not create databases" in output, output
    assert "Traceback" not in output, output
