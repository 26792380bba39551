"""Fixtures of the finished service's tests (the shape CONTRIBUTING.md describes).

Real PostgreSQL and Redis: the plugin gives the session its own database and Redis
namespace; each test gets a fresh app, truncated tables and a Redis prefix of its own.
"""

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from uuid import UUID, uuid4

import pytest
from fastapi import FastAPI
from final_helpers import (
    DEFAULT_PASSWORD,
    FAST_PASSWORD_HASHING,
    TEST_SECRET_KEY,
    client_for,
    make_settings,
    running_app,
)
from final_servers import running_servers
from httpx import AsyncClient
from sqlalchemy import event
from sqlalchemy.ext.asyncio import create_async_engine

from app.config import Settings
from app.database import Base
from app.users import service
from app.users.models import Role
from app.users.schemas import UserCreate


@pytest.fixture
def settings(database_url: str, redis_url: str, redis_namespace: str) -> Settings:
    return make_settings(database_url, redis_url, redis_namespace)


@pytest.fixture(scope="session")
def database_schema(database_url: str) -> None:
    """The tables, created once for the session's database."""

    async def create_tables() -> None:
        engine = create_async_engine(database_url)
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        await engine.dispose()

    asyncio.run(create_tables())


@pytest.fixture
async def app(settings: Settings, database_schema: None) -> AsyncIterator[FastAPI]:
    async with running_app(settings) as application:
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    async with client_for(app) as http_client:
        yield http_client


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
    """Counts the SQL statements the app's engines (sessions' and cache loads') send from now
    on."""
    counter = QueryCounter()

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        counter.statements.append(statement)

    engines = [app.state.resources.engine.sync_engine, app.state.resources.read_engine.sync_engine]
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    yield counter
    for engine in engines:
        event.remove(engine, "before_cursor_execute", record)


@dataclass(frozen=True)
class TestUser:
    id: UUID
    email: str
    password: str
    role: Role


CreateUser = Callable[..., Awaitable[TestUser]]


@pytest.fixture
def create_user(app: FastAPI) -> CreateUser:
    """Factory: `await create_user(role=Role.ADMIN)` inserts a user through the service."""

    async def factory(
        *,
        email: str | None = None,
        password: str = DEFAULT_PASSWORD,
        full_name: str | None = "Ada Lovelace",
        role: Role = Role.USER,
    ) -> TestUser:
        email = email or f"user-{uuid4().hex[:10]}@example.com"
        async with app.state.resources.sessionmaker() as session:
            user = await service.create_user(
                session,
                data=UserCreate(email=email, password=password, full_name=full_name),
                password_hasher=app.state.resources.password_hasher,
            )
            if role != Role.USER:
                user.role = role
                await session.commit()
        return TestUser(id=user.id, email=email, password=password, role=role)

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
        assert response.status_code == 200, response.text
        body = response.json()
        return Tokens(access_token=body["access_token"], refresh_token=body["refresh_token"])

    return log_in


@pytest.fixture
async def admin_tokens(create_user: CreateUser, login: Login) -> Tokens:
    """An admin's tokens (its writes may also hit the rate limit: a 429 is a fine answer)."""
    return await login(await create_user(role=Role.ADMIN))


@pytest.fixture
def server_environment(database_url, redis_url, redis_namespace, database_schema, tmp_path):
    """What every server process of one test shares: the database, Redis and its key prefix,
    and one PROMETHEUS_MULTIPROC_DIR (see final_servers.py)."""
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    return {
        **os.environ,
        "ENVIRONMENT": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": f"{redis_namespace}{tmp_path.name}:",
        "SECRET_KEY": TEST_SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOGIN_RATE_LIMIT": "3",
        "REDIS_SOCKET_TIMEOUT_SECONDS": "5",  # no fail-open by a stall on a busy machine
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        **{name.upper(): str(value) for name, value in FAST_PASSWORD_HASHING.items()},
    }


@pytest.fixture
def two_servers(server_environment, tmp_path) -> Iterator[tuple[str, str]]:
    """The URLs of two server processes of the app, like two workers of the image."""
    with running_servers(server_environment, tmp_path, 2) as (a, b):
        yield a.url, b.url
