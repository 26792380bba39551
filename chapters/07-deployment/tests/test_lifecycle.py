"""What every exercise relies on (no exercise marker): the app starts, and its shutdown closes
the engine and the Redis client, so a stopping server leaves no connection behind."""

import logging

from asgi_lifespan import LifespanManager

from app.main import create_app
from app.resources import resources_of


async def test_the_app_starts_and_registers_a_user(client):
    # The article's example: a new email answers 201, with or without the trailing slash.
    created = await client.post(
        "/users/", json={"email": "ada@example.com", "password": "s3cret-pw"}
    )

    assert created.status_code == 201, created.text


async def test_shutdown_closes_the_engine_and_the_redis_client(settings, database_schema, caplog):
    caplog.set_level(logging.INFO, logger="app.main")
    application = create_app(settings)
    closed: list[str] = []

    async with LifespanManager(application):
        resources = resources_of(application)
        engine, redis = resources.engine, resources.redis
        async with engine.connect() as connection:  # open a pooled connection
            await connection.exec_driver_sql("SELECT 1")
        await redis.ping()
        pool = engine.pool
        aclose = redis.aclose

        async def recording_aclose(*args, **kwargs):
            closed.append("redis")
            return await aclose(*args, **kwargs)

        redis.aclose = recording_aclose

    assert engine.pool is not pool, "The lifespan should dispose the engine at shutdown."
    assert closed == ["redis"], "The lifespan should close the Redis client at shutdown."
    messages = [record.getMessage() for record in caplog.records if record.name == "app.main"]
    assert messages == ["started", "stopped"], (
        f"The lifespan logs 'started' and 'stopped' once each; got {messages}."
    )
