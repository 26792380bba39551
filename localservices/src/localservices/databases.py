"""Databases of their own: one per test session (dropped at the end), one per served code tree.

Creating is race-free: `CREATE DATABASE` is sent, and "it already exists" counts as success
(two learners' terminals, or two workers, may create the same one at once). A role that may
not create databases is an environment problem, said in one sentence an instructor can act on.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from localservices.discovery import POSTGRES_URL_ENV, ServiceUnavailable
from localservices.running import run_coroutine
from localservices.urls import plain_postgres_url, sqlalchemy_url

if TYPE_CHECKING:
    import asyncpg

CONNECT_TIMEOUT_SECONDS = 10


class DatabaseCreationRefused(ServiceUnavailable):
    """The PostgreSQL role may not create databases (an environment problem, exit 3)."""

    @classmethod
    def for_role(cls, role: str) -> DatabaseCreationRefused:
        return cls(
            f"PostgreSQL says the role `{role}` may not create databases, which every test run "
            f'and `workshop serve` need: an administrator runs `ALTER ROLE "{role}" CREATEDB;`, '
            f"or set {POSTGRES_URL_ENV} to a role that may."
        )


@dataclass(frozen=True)
class DatabaseRight:
    """Whether the server URL's role may create databases; true when it may."""

    role: str
    allowed: bool

    def __bool__(self) -> bool:
        return self.allowed

    @property
    def problem(self) -> str | None:
        """The sentence to show when it may not, else None."""
        return None if self.allowed else str(DatabaseCreationRefused.for_role(self.role))


def can_create_databases(server_url: str) -> DatabaseRight:
    """Ask the server whether its role may create databases, without creating one."""

    async def ask() -> DatabaseRight:
        connection = await _connect(server_url)
        try:
            row = await connection.fetchrow(
                "SELECT current_user AS role, rolcreatedb OR rolsuper AS allowed "
                "FROM pg_roles WHERE rolname = current_user"
            )
        finally:
            await connection.close()
        assert row is not None, "current_user always has a row in pg_roles"
        return DatabaseRight(role=str(row["role"]), allowed=bool(row["allowed"]))

    return run_coroutine(ask)


def ensure_database(server_url: str, name: str) -> str:
    """Create database `name` on the server unless it exists; return its SQLAlchemy URL."""
    run_coroutine(lambda: _create_database(server_url, name, exist_ok=True))
    return sqlalchemy_url(server_url, name)


@contextmanager
def temporary_database(server_url: str, *, label: str = "test") -> Iterator[str]:
    """Create a fresh database on the server, yield its SQLAlchemy URL, then drop it."""
    name = f"ws_{label}_{os.getpid()}_{secrets.token_hex(3)}".lower()
    run_coroutine(lambda: _create_database(server_url, name, exist_ok=False))
    try:
        yield sqlalchemy_url(server_url, name)
    finally:
        run_coroutine(lambda: _drop_database(server_url, name))


async def _connect(server_url: str) -> asyncpg.Connection:
    import asyncpg

    return await asyncpg.connect(plain_postgres_url(server_url), timeout=CONNECT_TIMEOUT_SECONDS)


async def _create_database(server_url: str, name: str, *, exist_ok: bool) -> None:
    import asyncpg

    connection = await _connect(server_url)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    except asyncpg.InsufficientPrivilegeError as error:
        role = await connection.fetchval("SELECT current_user")
        raise DatabaseCreationRefused.for_role(str(role)) from error
    except (asyncpg.DuplicateDatabaseError, asyncpg.UniqueViolationError):
        # 42P04 when it existed before; a unique violation on pg_database when another
        # session created it at the same moment. Either way it is there now.
        if not exist_ok:
            raise
    finally:
        await connection.close()


async def _drop_database(server_url: str, name: str) -> None:
    connection = await _connect(server_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()
