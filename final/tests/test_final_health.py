"""Health: liveness always answers; readiness names what is down and answers 503."""

from asgi_lifespan import LifespanManager
from final_helpers import client_for, make_settings, running_app

from app.main import create_app


async def test_liveness_answers(client):
    response = await client.get("/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readiness_checks_postgres_and_redis(client):
    response = await client.get("/health/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"postgres": "ok", "redis": "ok"}}


async def test_readiness_is_503_naming_redis_when_redis_is_down(
    database_url, redis_namespace, database_schema
):
    settings = make_settings(database_url, "redis://127.0.0.1:1/0", redis_namespace)
    async with running_app(settings) as app, client_for(app) as client:
        ready = await client.get("/health/ready")
        live = await client.get("/health/live")

    assert ready.status_code == 503
    assert ready.headers["content-type"] == "application/problem+json"
    assert ready.json()["checks"] == {"postgres": "ok", "redis": "down"}
    assert "redis" in ready.json()["detail"]
    assert live.status_code == 200, "liveness does not depend on Redis"


async def test_readiness_is_503_naming_postgres_when_postgres_is_down(redis_url, redis_namespace):
    dead_postgres = "postgresql+asyncpg://nobody:nothing@127.0.0.1:1/none"
    app = create_app(make_settings(dead_postgres, redis_url, redis_namespace))
    async with LifespanManager(app), client_for(app) as client:
        ready = await client.get("/health/ready")
        register = await client.post(
            "/users", json={"email": "a@example.com", "password": "password123"}
        )

    assert ready.status_code == 503
    assert ready.json()["checks"] == {"postgres": "down", "redis": "ok"}
    assert "postgres" in ready.json()["detail"]
    assert register.status_code == 503, "an outage is a 503 to come back later, not a 500"
    assert register.json()["code"] == "database_unavailable"
    assert register.headers["Retry-After"] == "5"
