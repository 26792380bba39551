"""The backing services of a benchmark run, found, prepared and cleaned up.

PostgreSQL and Redis come from the services layer (environment URLs, the local ports, or
the embedded fallback), so the runner works wherever the workshop's tests work. The run
gets a database per code tree and a Redis key prefix of its own, and removes both at the end:
other people's databases and keys on a shared server are never touched.
"""

from __future__ import annotations

import subprocess
import sys
from contextlib import ExitStack
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import localservices as services
from harness.bench import seed
from harness.bench.plan import CodeTree
from harness.server import clean_environment


class StackError(RuntimeError):
    """A step of preparing the services failed; the message says which and why."""


@dataclass(frozen=True)
class PreparedDatabase:
    url: str  # postgresql+asyncpg://, what the service's DATABASE_URL takes
    name: str
    users: list[seed.SeededUser]


@dataclass
class Stack:
    """Use as a context manager: services found on entry, everything removed on exit."""

    seeded_users: int
    postgres: services.Service | None = None
    redis: services.Service | None = None
    namespace: str = ""
    _databases: dict[str, PreparedDatabase] = field(default_factory=dict)
    _cleanup: ExitStack = field(default_factory=ExitStack)

    def __enter__(self) -> Stack:
        self.postgres = services.find_postgres()
        self.redis = services.find_redis()
        self.namespace = services.new_namespace("bench")
        self._cleanup.callback(services.delete_namespace, self.redis.url, self.namespace)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._cleanup.close()

    @property
    def found_postgres(self) -> services.Service:
        """PostgreSQL, once the stack is entered."""
        if self.postgres is None:
            raise StackError("the stack is not entered: use it as a context manager")
        return self.postgres

    @property
    def found_redis(self) -> services.Service:
        """Redis, once the stack is entered."""
        if self.redis is None:
            raise StackError("the stack is not entered: use it as a context manager")
        return self.redis

    def describe(self) -> str:
        return services.announce(*(s for s in (self.postgres, self.redis) if s is not None))

    def redis_prefix(self, label: str) -> str:
        """A prefix per server under the run's namespace, so runs never share a cache."""
        return f"{self.namespace}{label}:"

    def database_for(self, tree: CodeTree) -> PreparedDatabase:
        """A database of this run's own for `tree`: created, migrated and seeded once."""
        if tree.label not in self._databases:
            url = self._cleanup.enter_context(
                services.temporary_database(self.found_postgres.url, label="bench")
            )
            migrate(tree, url)
            users = seed.seed_users(services.plain_postgres_url(url), count=self.seeded_users)
            name = urlsplit(url).path.lstrip("/")
            self._databases[tree.label] = PreparedDatabase(url=url, name=name, users=users)
        return self._databases[tree.label]

    @property
    def seeded_trees(self) -> set[str]:
        return set(self._databases)

    @property
    def database_names(self) -> set[str]:
        return {database.name for database in self._databases.values()}


def migrate(tree: CodeTree, database_url: str) -> None:
    """`alembic upgrade head` in the code tree, as a deployment would run it."""
    if not (tree.directory / "alembic.ini").is_file():
        raise StackError(f"{tree.label} has no alembic.ini, so its schema cannot be migrated.")
    result = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=tree.directory,
        env=clean_environment({"DATABASE_URL": database_url}),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise StackError(f"alembic upgrade head failed for {tree.label}:\n{tail}")
