"""Fixtures of chapter 08: real PostgreSQL and Redis, the app under its lifespan, a client,
a query counter and factories (the shape every chapter shares; see CONTRIBUTING.md).

The plugin gives the session its own database and Redis namespace; each test gets a fresh
app, truncated tables and a Redis prefix of its own. The lifespan's objects are read as
`app.state.resources.<name>` (engine, read_engine, sessionmaker, redis, password_hasher, ...).
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from uuid import UUID, uuid4

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import create_async_engine

from app.config import Settings
from app.database import Base
from app.main import create_app
from app.users import service
from app.users.models import Role
from app.users.schemas import UserCreate

TEST_SECRET_KEY = "test-secret-key-long-enough-for-hs256-0123456789"
DEFAULT_PASSWORD = "correct horse battery staple"
# Cheap argon2 keeps the suite fast; chapter 04 proves the real parameters.
FAST_PASSWORD_HASHING = {
    "password_hash_time_cost": 1,
    "password_hash_memory_cost_kib": 1024,
    "password_hash_parallelism": 1,
}


@pytest.fixture
def settings(database_url: str, redis_url: str, redis_namespace: str) -> Settings:
    return Settings(
        _env_file=None,
        environment="test",
        database_url=database_url,
        redis_url=redis_url,
        redis_key_prefix=f"{redis_namespace}{uuid4().hex[:8]}:",
        secret_key=TEST_SECRET_KEY,
        allowed_hosts=["test", "localhost", "127.0.0.1"],
        # A busy machine can stall Redis past the production timeout: fail-open code would
        # then behave differently from one run to the next.
        redis_socket_timeout_seconds=5.0,
        **FAST_PASSWORD_HASHING,
    )


@pytest.fixture(scope="session")
def database_schema(database_url: str) -> None:
    """The tables, created once for the session's database."""

    async def create_tables() -> None:
        engine = create_async_engine(database_url)
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        await engine.dispose()

    asyncio.run(create_tables())


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The app under its lifespan (httpx's transport does not run it), tables emptied first."""
    application = create_app(settings)
    async with LifespanManager(application):
        async with application.state.resources.engine.begin() as connection:
            tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
            await connection.execute(text(f"TRUNCATE {tables}"))
        yield application


def client_for(application: FastAPI) -> AsyncClient:
    # raise_app_exceptions=False: an unhandled error comes back as the 500 a real client
    # would see, instead of being raised into the test.
    transport = ASGITransport(app=application, raise_app_exceptions=False)
    return AsyncClient(transport=transport, base_url="http://test")


@pytest.fixture
async def app(settings: Settings, database_schema: None) -> AsyncIterator[FastAPI]:
    async with running_app(settings) as application:
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    async with client_for(app) as http_client:
        yield http_client


AppWith = Callable[..., AbstractAsyncContextManager[tuple[FastAPI, AsyncClient]]]


@pytest.fixture
def app_with(settings: Settings, database_schema: None) -> AppWith:
    """`async with app_with(metrics_token=...) as (app, client):` other settings, same rest."""

    @asynccontextmanager
    async def start(**overrides: object) -> AsyncIterator[tuple[FastAPI, AsyncClient]]:
        changed = Settings(_env_file=None, **{**settings.model_dump(), **overrides})
        async with running_app(changed) as application, client_for(application) as http_client:
            yield application, http_client

    return start


@dataclass(frozen=True)
class Statement:
    sql: str
    rows: int  # the rows PostgreSQL answered with (-1 when the driver cannot say)
    pool: str  # which of the app's pools sent it: "sessions' pool" or "cache's read pool"


@dataclass
class QueryCounter:
    sent: list[Statement] = field(default_factory=list)

    @property
    def statements(self) -> list[str]:
        return [statement.sql for statement in self.sent]

    @property
    def count(self) -> int:
        return len(self.sent)

    def reset(self) -> None:
        self.sent.clear()


@pytest.fixture
def query_counter(app: FastAPI) -> Iterator[QueryCounter]:
    """Records the SQL statements both of the app's pools send from now on: the sessions'
    (app.state.resources.engine) and the user cache's reads (read_engine)."""
    counter = QueryCounter()
    engines = {
        "sessions' pool": app.state.resources.engine.sync_engine,
        "cache's read pool": app.state.resources.read_engine.sync_engine,
    }
    listeners = []
    for name, engine in engines.items():

        def record(conn, cursor, statement, parameters, context, executemany, name=name):
            counter.sent.append(Statement(sql=statement, rows=cursor.rowcount, pool=name))

        event.listen(engine, "after_cursor_execute", record)
        listeners.append((engine, record))
    yield counter
    for engine, record in listeners:
        event.remove(engine, "after_cursor_execute", record)


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
        *, email: str | None = None, password: str = DEFAULT_PASSWORD, role: Role = Role.USER
    ) -> TestUser:
        email = email or f"user-{uuid4().hex[:10]}@example.com"
        async with app.state.resources.sessionmaker() as session:
            user = await service.create_user(
                session,
                data=UserCreate(email=email, password=password, full_name="Ada Lovelace"),
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
        assert response.status_code == 200, f"Logging in failed: {response.text}"
        body = response.json()
        return Tokens(access_token=body["access_token"], refresh_token=body["refresh_token"])

    return log_in
