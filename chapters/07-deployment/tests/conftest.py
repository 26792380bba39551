"""Fixtures of chapter 07: real PostgreSQL and Redis, the app under its lifespan, a client.
The Dockerfile and compose file are read by deploy_files.py, and built by built_image.py.

The plugin gives the session its own database and Redis namespace; each test gets a fresh
app, truncated tables and a Redis prefix of its own.
"""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from uuid import uuid4

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.config import Settings
from app.database import Base
from app.main import create_app
from app.resources import resources_of

TEST_SECRET_KEY = "test-secret-key-long-enough-for-hs256-0123456789"


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
        # Cheap argon2 keeps the suite fast; chapter 04 proves the real parameters.
        password_hash_time_cost=1,
        password_hash_memory_cost_kib=1024,
        password_hash_parallelism=1,
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
        async with resources_of(application).engine.begin() as connection:
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
    """`async with app_with(log_level="WARNING") as (app, client):` other settings, same rest."""

    @asynccontextmanager
    async def start(**overrides: object) -> AsyncIterator[tuple[FastAPI, AsyncClient]]:
        async with (
            running_app(settings.model_copy(update=overrides)) as application,
            client_for(application) as http_client,
        ):
            yield application, http_client

    return start
