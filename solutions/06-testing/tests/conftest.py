"""The fixtures of the suite: the real service under its lifespan, on real PostgreSQL and Redis,
with every test isolated from the others.

The workshop's pytest plugin gives the session a database of its own (`database_url`) and a
Redis namespace of its own (`redis_namespace`). The fixtures here give every test a fresh app,
empty tables and a Redis key prefix of its own, so the tests pass in any order and never meet.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import event, text, update
from sqlalchemy.ext.asyncio import create_async_engine

from app.config import Settings
from app.database import Base
from app.main import create_app
from app.resources import resources_of
from app.users import service
from app.users.models import Role, User  # and the tables join Base.metadata (database_schema)
from app.users.schemas import UserCreate

TEST_SECRET_KEY = "test-secret-key-long-enough-for-hs256-0123456789"
DEFAULT_PASSWORD = "correct horse battery staple"


# --8<-- [start:isolation]
@pytest.fixture
def settings(database_url: str, redis_url: str, redis_namespace: str) -> Settings:
    """The service's settings for one test: the session's database, a Redis prefix of its own."""
    return Settings(
        _env_file=None,  # a developer's .env must not change what the tests see
        environment="test",
        database_url=database_url,
        redis_url=redis_url,
        # Under the session's namespace (emptied at the end), and new for every test.
        redis_key_prefix=f"{redis_namespace}{uuid4().hex[:8]}:",
        secret_key=TEST_SECRET_KEY,
        allowed_hosts=["test"],
        # A busy machine can stall Redis past the production timeout of half a second.
        redis_socket_timeout_seconds=5.0,
        # argon2 at its cheapest: its real cost is for attackers, not for a test suite.
        password_hash_time_cost=1,
        password_hash_memory_cost_kib=1024,
        password_hash_parallelism=1,
    )


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
    """The service under its lifespan (its Resources made), tables emptied."""
    application = create_app(settings)
    # The client's ASGITransport sends requests only: LifespanManager runs startup and shutdown.
    async with LifespanManager(application):
        # Emptied before the test, not after: a test that crashed never leaks into the next.
        async with resources_of(application).engine.begin() as connection:
            tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
            await connection.execute(text(f"TRUNCATE {tables}"))
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    """HTTP in memory: each request goes straight into the app, no server and no port."""
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http:
        yield http


# --8<-- [end:isolation]


# --8<-- [start:override]
Override = Callable[[Callable[..., Any], Callable[..., Any]], None]


@pytest.fixture
def override_dependency(app: FastAPI) -> Iterator[Override]:
    """`override_dependency(get_user_cache, replacement)`: for this test, every route that
    depends on `get_user_cache` gets what `replacement` returns instead."""

    def override(dependency: Callable[..., Any], replacement: Callable[..., Any]) -> None:
        app.dependency_overrides[dependency] = replacement

    yield override
    app.dependency_overrides.clear()


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
        email = email or f"user-{uuid4().hex[:12]}@example.com"
        data = UserCreate(email=email, password=password, full_name=full_name)
        resources = resources_of(app)
        async with resources.sessionmaker() as session:
            user = await service.create_user(
                session, data=data, password_hasher=resources.password_hasher
            )
            if role != Role.USER:  # nobody registers as an admin: promote the row
                await session.execute(update(User).where(User.id == user.id).values(role=role))
                await session.commit()
        return TestUser(user.id, email, password, full_name, role)

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
