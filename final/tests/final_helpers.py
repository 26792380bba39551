"""Helpers the final tests share with conftest.py: settings for a test, an app under its
lifespan, a client for it. A module of its own, so tests import it by a unique name."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import uuid4

from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from app.config import Settings
from app.database import Base
from app.main import create_app
from app.resources import resources_of
from app.users.cache import UserCache
from app.users.dependencies import get_user_cache

TEST_SECRET_KEY = "test-secret-key-long-enough-for-hs256-0123456789"
# Cheap argon2 parameters keep the suite fast; test_final_passwords.py proves the real ones.
FAST_PASSWORD_HASHING = {
    "password_hash_time_cost": 1,
    "password_hash_memory_cost_kib": 1024,
    "password_hash_parallelism": 1,
}
DEFAULT_PASSWORD = "correct horse battery staple"

# Every sample of a /metrics answer, by name and labels.
MetricSamples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def make_settings(
    database_url: str, redis_url: str, redis_namespace: str, **overrides: object
) -> Settings:
    values: dict[str, object] = {
        "environment": "test",
        "database_url": database_url,
        "redis_url": redis_url,
        "redis_key_prefix": f"{redis_namespace}{uuid4().hex[:8]}:",
        "secret_key": TEST_SECRET_KEY,
        "allowed_hosts": ["test", "localhost", "127.0.0.1"],
        # A busy CI machine can stall Redis replies past the production timeout: a fail-open
        # limiter would then let requests through and make the limit tests flaky.
        "redis_socket_timeout_seconds": 5.0,
        **FAST_PASSWORD_HASHING,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The app under its lifespan, with every table emptied first."""
    application = create_app(settings)
    async with LifespanManager(application):
        async with application.state.resources.engine.begin() as connection:
            tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
            await connection.execute(text(f"TRUNCATE {tables}"))
        yield application


def client_for(application: FastAPI, **transport_options: object) -> AsyncClient:
    transport = ASGITransport(app=application, **transport_options)
    return AsyncClient(transport=transport, base_url="http://test")


def parse_metrics(exposition: str) -> MetricSamples:
    """The samples of a Prometheus text exposition (what /metrics answers)."""
    samples: MetricSamples = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def metric_value(samples: MetricSamples, name: str, **labels: str) -> float:
    """The sample with exactly these labels; 0 when the series does not exist (yet)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def user_cache_of(application: FastAPI) -> UserCache:
    """A UserCache on the running app's resources, as a request gets one."""
    resources = resources_of(application)
    return UserCache(
        redis=resources.redis,
        engine=resources.read_engine,
        settings=resources.settings,
        flights=resources.flights,
    )


def override_user_cache(application: FastAPI, *, redis: object) -> None:
    """From now on the app's requests get a UserCache on `redis` (the cache alone loses its
    Redis; the login check keeps the app's own, since it fails closed)."""
    resources = resources_of(application)
    application.dependency_overrides[get_user_cache] = lambda: UserCache(
        redis=redis,  # type: ignore[arg-type]
        engine=resources.read_engine,
        settings=resources.settings,
        flights=resources.flights,
    )
