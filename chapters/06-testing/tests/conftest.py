"""The fixtures of the suite: the real service under its lifespan, on real PostgreSQL and Redis,
with every test isolated from the others.

The workshop's pytest plugin gives the session a database of its own (`database_url`) and a
Redis namespace of its own (`redis_namespace`). The fixtures here give every test a fresh app,
empty tables and a Redis key prefix of its own, so the tests pass in any order and never meet.

Exercise testing.fixtures: finish the fixtures marked TODO. Keep their names: your tests use
them, and so does `workshop check 06`, which tries each of them on its own.
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

TEST_SECRET_KEY = "test-secret-key-long-enough-for-hs256-0123456789"
DEFAULT_PASSWORD = "correct horse battery staple"


@pytest.fixture
def settings(database_url: str, redis_url: str, redis_namespace: str) -> Settings:
    """The service's settings for one test: the session's database, a Redis prefix of its own."""
    # TODO(testing.fixtures): return Settings(_env_file=None, environment="test", ...) with the
    # plugin's database_url and redis_url, a redis_key_prefix that is new for every test and
    # starts with redis_namespace, secret_key=TEST_SECRET_KEY, allowed_hosts=["test"],
    # redis_socket_timeout_seconds=5.0 and the cheapest argon2 (password_hash_time_cost=1,
    # password_hash_memory_cost_kib=1024, password_hash_parallelism=1).
    pytest.fail("TODO(testing.fixtures): build the test's Settings in tests/conftest.py")


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


@pytest.fixture
async def app(settings: Settings, database_schema: None) -> AsyncIterator[FastAPI]:
    """The service under its lifespan (engine, Redis and cache on app.state), tables emptied."""
    # TODO(testing.fixtures): build the app with create_app(settings), run its lifespan with
    # asgi_lifespan's LifespanManager, TRUNCATE every table of Base.metadata through
    # app.state.engine, then yield the app (inside the `async with`).
    pytest.fail("TODO(testing.fixtures): start the app under its lifespan in tests/conftest.py")


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    """HTTP in memory: each request goes straight into the app, no server and no port."""
    # TODO(testing.fixtures): yield an httpx.AsyncClient whose transport is
    # ASGITransport(app=app), with base_url="http://test".
    pytest.fail("TODO(testing.fixtures): give the client an ASGITransport in tests/conftest.py")


Override = Callable[[Callable[..., Any], Callable[..., Any]], None]


@pytest.fixture
def override_dependency(app: FastAPI) -> Iterator[Override]:
    """`override_dependency(get_user_cache, replacement)`: for this test, every route that
    depends on `get_user_cache` gets what `replacement` returns instead."""
    # TODO(testing.fixtures): yield a function that puts the replacement in
    # app.dependency_overrides, and empty that dict when the test is over.
    pytest.fail("TODO(testing.fixtures): override dependencies in tests/conftest.py")


@dataclass(frozen=True)
class TestUser:
    """A user the factory saved, with the password it was given (the database keeps a hash)."""

    id: UUID
    email: str
    password: str
    full_name: str | None


CreateUser = Callable[..., Awaitable[TestUser]]


@pytest.fixture
def create_user(app: FastAPI) -> CreateUser:
    """Factory: `await create_user()`, or with `email=`, `password=`, `full_name=`.

    It saves through the service, not through HTTP: arranging a test must not depend on the
    routes the test is about.
    """

    async def factory(
        *,
        email: str | None = None,
        password: str = DEFAULT_PASSWORD,
        full_name: str | None = "Ada Lovelace",
    ) -> TestUser:
        # TODO(testing.fixtures): make up a unique email when none is given, save the user
        # with app.users.service.create_user in a session from app.state.sessionmaker (the
        # hasher is app.state.password_hasher), and return a TestUser.
        pytest.fail("TODO(testing.fixtures): write the create_user factory in tests/conftest.py")

    return factory


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

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    yield counter
    event.remove(engine, "before_cursor_execute", record)
