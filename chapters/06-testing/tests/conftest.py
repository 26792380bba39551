"""The fixtures of the suite: the real service under its lifespan, on real PostgreSQL and Redis,
with every test isolated from the others.

The workshop's pytest plugin gives the session a database of its own (`database_url`) and a
Redis namespace of its own (`redis_namespace`). The fixtures here give every test a fresh app,
empty tables and a Redis key prefix of its own, so the tests pass in any order and never meet.

Exercise testing.fixtures: finish the fixtures that end in `pytest.fail("TODO...")`. Keep their
names: your tests use them, and so does `workshop check 06`, which tries each of them alone.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import event
from sqlalchemy.ext.asyncio import create_async_engine

from app.config import Settings
from app.database import Base
from app.resources import resources_of
from app.users.models import Role  # and the tables join Base.metadata, for database_schema

TEST_SECRET_KEY = "test-secret-key-long-enough-for-hs256-0123456789"
DEFAULT_PASSWORD = "correct horse battery staple"


# --8<-- [start:isolation]
@pytest.fixture
def settings(database_url: str, redis_url: str, redis_namespace: str) -> Settings:
    """The service's settings for one test: the session's database, a Redis prefix of its own."""
    # TODO(testing.fixtures): the Settings of one test. What they must achieve:
    # - no .env file read, environment "test": a developer's own settings must not leak in;
    # - the plugin's database and Redis: this session's own, never anyone else's;
    # - a Redis key prefix under `redis_namespace` that is NEW FOR EVERY TEST: Redis cannot
    #   be emptied on a shared server, so a fresh prefix is how a test gets an empty Redis
    #   (cache entries, logins and rate-limit counters included);
    # - TEST_SECRET_KEY, and "test" among the allowed hosts (the client's base URL);
    # - the cheapest argon2 the settings accept, and a Redis timeout that a busy laptop
    #   cannot exceed: a test suite is no place for an attacker's costs.
    pytest.fail("TODO(testing.fixtures): build the test's Settings in tests/conftest.py")


# --8<-- [start:given]
@pytest.fixture(scope="session")
def database_schema(database_url: str) -> None:
    """The tables, created once for the session's database (each test then empties them)."""

    async def create_tables() -> None:
        engine = create_async_engine(database_url)
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        await engine.dispose()

    # Every test has an event loop of its own; a session fixture runs on a loop of its own.
    asyncio.run(create_tables())


# --8<-- [end:given]


@pytest.fixture
async def app(settings: Settings, database_schema: None) -> AsyncIterator[FastAPI]:
    """The service under its lifespan (its Resources made), tables emptied."""
    # TODO(testing.fixtures): yield the app built from `settings`, running. httpx's transport
    # sends requests but never runs the lifespan, and without it the app has no Resources
    # (resources_of(app) would fail): run it for the whole test. Before yielding, empty every
    # table of Base.metadata through the app's engine: emptied BEFORE, not after, so that a
    # test that crashed can never leak rows into the next one.
    pytest.fail("TODO(testing.fixtures): start the app under its lifespan in tests/conftest.py")


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    """HTTP in memory: each request goes straight into the app, no server and no port."""
    # TODO(testing.fixtures): yield an httpx.AsyncClient whose requests go straight into `app`
    # (no server, no port), closed when the test ends. Its base URL's host must be one the
    # settings allow.
    pytest.fail("TODO(testing.fixtures): give the client a transport in tests/conftest.py")


# --8<-- [end:isolation]


# --8<-- [start:override]
Override = Callable[[Callable[..., Any], Callable[..., Any]], None]


@pytest.fixture
def override_dependency(app: FastAPI) -> Iterator[Override]:
    """`override_dependency(get_user_cache, replacement)`: for this test, every route that
    depends on `get_user_cache` gets what `replacement` returns instead."""

    # TODO(testing.fixtures): yield a function override(dependency, replacement) after which
    # every route of THIS app that depends on `dependency` gets what `replacement` returns.
    # When the test is over, nothing may stay replaced.
    pytest.fail("TODO(testing.fixtures): override dependencies in tests/conftest.py")


# --8<-- [end:override]


# --8<-- [start:factory]
@dataclass(frozen=True)
class TestUser:
    """A user the factory saved, with the password it was given (the database keeps a hash)."""

    id: UUID
    email: str
    password: str
    full_name: str | None
    role: Role = Role.USER


CreateUser = Callable[..., Awaitable[TestUser]]


@pytest.fixture
def create_user(app: FastAPI) -> CreateUser:
    """Factory: `await create_user()`, or with `email=`, `password=`, `full_name=`, `role=`.

    It saves through the service, not through HTTP: arranging a test must not depend on the
    routes the test is about.
    """

    async def factory(
        *,
        email: str | None = None,
        password: str = DEFAULT_PASSWORD,
        full_name: str | None = "Ada Lovelace",
        role: Role = Role.USER,
    ) -> TestUser:
        # TODO(testing.fixtures): save a user and return its TestUser. Go through the service
        # (app/users/service.py), not through HTTP: arranging a test must not depend on the
        # routes the test is about. It needs a session and the password hasher from the
        # app's Resources. Two calls without an email must make two different users; an
        # admin is a user whose role is changed afterwards (nobody registers as one).
        pytest.fail("TODO(testing.fixtures): write the create_user factory in tests/conftest.py")

    return factory


# --8<-- [end:factory]


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


Login = Callable[[TestUser], Awaitable[Tokens]]


@pytest.fixture
def login(client: AsyncClient) -> Login:
    """Factory: `tokens = await login(user)` logs in through POST /auth/token."""

    async def log_in(user: TestUser) -> Tokens:
        response = await client.post(
            "/auth/token", data={"username": user.email, "password": user.password}
        )
        assert response.status_code == 200, f"Logging in failed: {response.text}"
        body = response.json()
        return Tokens(access_token=body["access_token"], refresh_token=body["refresh_token"])

    return log_in


@dataclass
class QueryCounter:
    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)

    def reset(self) -> None:
        self.statements.clear()


@pytest.fixture
def query_counter(app: FastAPI) -> Iterator[QueryCounter]:
    """Counts the SQL statements the app's engine sends from now on."""
    counter = QueryCounter()

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        counter.statements.append(statement)

    engine = resources_of(app).engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    yield counter
    event.remove(engine, "before_cursor_execute", record)
