"""The app factory, the lifespan, and the HTTP middleware around every request."""

from asgi_lifespan import LifespanManager
from final_helpers import client_for, make_settings
from sqlalchemy import text

from app.main import create_app


async def test_the_lifespan_opens_the_pools_and_closes_them(settings, database_schema):
    app = create_app(settings)
    assert not hasattr(app.state, "engine"), "nothing may exist before the server starts"
    closed = []

    async with LifespanManager(app):
        engine, redis = app.state.resources.engine, app.state.resources.redis
        assert await redis.ping()
        async with app.state.resources.sessionmaker() as session:
            assert await session.scalar(text("SELECT 1")) == 1
            assert session.sync_session.expire_on_commit is False
        pooled_while_running = engine.pool.checkedin()
        real_aclose = redis.aclose

        async def recording_aclose(*args, **kwargs):
            closed.append("redis")
            await real_aclose(*args, **kwargs)

        redis.aclose = recording_aclose

    assert pooled_while_running == 1
    assert engine.pool.checkedin() == 0, "engine.dispose() closes the pooled connections"
    assert closed == ["redis"], "the Redis client is closed at shutdown"


async def test_every_answer_carries_a_request_id_and_the_process_time(client):
    response = await client.get("/health/live")

    assert response.headers["X-Request-ID"]
    assert float(response.headers["X-Process-Time"]) >= 0


async def test_a_trailing_slash_is_served_without_a_redirect(client):
    response = await client.get("/health/live/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_cors_lets_configured_origins_in(client):
    preflight = await client.options(
        "/users",
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Content-Type",
        },
    )
    stranger = await client.get("/health/live", headers={"Origin": "https://evil.example"})

    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert preflight.headers["Access-Control-Allow-Credentials"] == "true"
    assert "Access-Control-Allow-Origin" not in stranger.headers


async def test_unknown_hosts_are_refused(client):
    response = await client.get("/health/live", headers={"Host": "attacker.example"})

    assert response.status_code == 400


async def test_any_host_is_served_when_allowed_hosts_is_a_wildcard(
    database_url, redis_url, redis_namespace, database_schema
):
    settings = make_settings(database_url, redis_url, redis_namespace, allowed_hosts=["*"])
    app = create_app(settings)
    async with LifespanManager(app), client_for(app) as client:
        response = await client.get("/health/live", headers={"Host": "anything.example"})

    assert response.status_code == 200
