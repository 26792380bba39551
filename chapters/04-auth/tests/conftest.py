"""Fixtures of chapter 04: real PostgreSQL and Redis, the app under its lifespan, clients (from
any address), and factories for users and their tokens (tokens made by hand are in
auth_helpers.py).

The plugin gives the session its own database and Redis namespace; each test gets a fresh
app, emptied tables and a Redis prefix of its own (so rate-limit counters and logins never
leak from one test into the next). The app's lifespan objects are on
`app.state.resources` (app/resources.py): `.redis`, `.logins`, `.password_hasher`, ...
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from uuid import uuid4

import pytest
from asgi_lifespan import LifespanManager
from auth_helpers import DEFAULT_PASSWORD, TEST_SECRET_KEY, TestUser, Tokens, log_in
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app.config import Settings
from app.database import Base
from app.main import create_app
from app.resources import Resources
from app.users import service
from app.users.models import Role, User
from app.users.schemas import UserCreate


@pytest.fixture
def settings(
    request: pytest.FixtureRequest, database_url: str, redis_url: str, redis_namespace: str
) -> Settings:
    """The test's settings. A test changes some with
    `@pytest.mark.parametrize("settings", [{"name": value}], indirect=True)`."""
    values = {
        "redis_url": redis_url,
        # Every key the test's app writes lives under a prefix of the test's own.
        "redis_key_prefix": f"{redis_namespace}{uuid4().hex[:8]}:",
        "secret_key": TEST_SECRET_KEY,
        # A busy machine can stall Redis past the production timeout: a rate limiter that
        # fails open would then let requests through, and a limit test pass by luck.
        "redis_socket_timeout_seconds": 5.0,
        # Cheap argon2 keeps the suite fast; test_passwords.py checks these reach the hash.
        "password_hash_time_cost": 1,
        "password_hash_memory_cost_kib": 1024,
        "password_hash_parallelism": 1,
    }
    values.update(getattr(request, "param", {}))
    return Settings(
        _env_file=None,
        environment="test",
        database_url=database_url,
        allowed_hosts=["test"],
        **values,
    )


@pytest.fixture(scope="session")
def database_schema(database_url: str) -> None:
    """The tables, created once for the session's database from the models."""

    async def create_tables() -> None:
        engine = create_async_engine(database_url, poolclass=NullPool)
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        await engine.dispose()

    asyncio.run(create_tables())


async def empty_every_table(database_url: str) -> None:
    # Through an engine of the fixture's own, so setup never depends on the app under test.
    engine = create_async_engine(database_url, poolclass=NullPool)
    async with engine.begin() as connection:
        tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
        await connection.execute(text(f"TRUNCATE {tables}"))
    await engine.dispose()


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The app under its lifespan (httpx's ASGITransport does not run it), tables emptied."""
    await empty_every_table(settings.database_url)
    application = create_app(settings)
    async with LifespanManager(application):
        yield application


def client_for(application: FastAPI, address: str = "127.0.0.1") -> AsyncClient:
    """A client whose requests come from `address`, as uvicorn reports the peer."""
    transport = ASGITransport(app=application, client=(address, 50000))
    return AsyncClient(transport=transport, base_url="http://test")


@pytest.fixture
async def app(settings: Settings, database_schema: None) -> AsyncIterator[FastAPI]:
    async with running_app(settings) as application:
        yield application


@pytest.fixture
def resources(app: FastAPI) -> Resources:
    """What the lifespan made: `resources.redis`, `resources.logins`, ..."""
    return app.state.resources


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    async with client_for(app) as http_client:
        yield http_client


ClientFrom = Callable[[str], AbstractAsyncContextManager[AsyncClient]]


@pytest.fixture
def client_from(app: FastAPI) -> ClientFrom:
    """`async with client_from("203.0.113.7") as other:` a client at another address."""
    return lambda address: client_for(app, address)


# --- users and their tokens ---------------------------------------------------------------------


CreateUser = Callable[..., Awaitable[TestUser]]


@pytest.fixture
def create_user(app: FastAPI) -> CreateUser:
    """`await create_user(role="admin")`: a user inserted through the service (and its
    hasher), past the routes."""

    async def factory(
        *,
        email: str | None = None,
        password: str = DEFAULT_PASSWORD,
        full_name: str | None = "Ada Lovelace",
        role: str = "user",
    ) -> TestUser:
        email = email or f"user-{uuid4().hex[:10]}@example.com"
        resources: Resources = app.state.resources
        async with resources.sessionmaker() as session:
            user = await service.create_user(
                session,
                data=UserCreate(email=email, password=password, full_name=full_name),
                password_hasher=resources.password_hasher,
            )
            if role != Role.USER:
                promote = update(User).where(User.id == user.id).values(role=Role(role))
                await session.execute(promote)
                await session.commit()
        return TestUser(id=user.id, email=email, password=password, role=role)

    return factory


Login = Callable[[TestUser], Awaitable[Tokens]]


@pytest.fixture
def login(client: AsyncClient) -> Login:
    """`tokens = await login(user)` logs in through POST /auth/token, or stops the test with
    the exercises logging in needs."""

    async def log_in_with_the_client(user: TestUser) -> Tokens:
        return await log_in(client, user)

    return log_in_with_the_client


@pytest.fixture
async def stored_hash(app: FastAPI) -> Callable[[TestUser], Awaitable[str]]:
    """`await stored_hash(user)`: users.hashed_password as it is now, read past the app."""
    engine = create_async_engine(app.state.resources.settings.database_url, poolclass=NullPool)

    async def read(user: TestUser) -> str:
        async with engine.connect() as connection:
            return await connection.scalar(
                text("SELECT hashed_password FROM users WHERE id = :id"), {"id": user.id}
            )

    yield read
    await engine.dispose()
