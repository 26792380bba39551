"""Worked section errors.outages: a database that cannot be reached, or has no free
connection in time, is an outage (503 with Retry-After), not a bug (500).

handle_database_unavailable (app/problems.py) is given and registered; these tests pass on
the starter.
"""

import asyncio

from asgi_lifespan import LifespanManager
from sqlalchemy import text

from app.main import create_app

PROBLEM = "application/problem+json"
NEW_USER = {"email": "ada@example.com", "password": "s3cret-pw"}


def assert_database_unavailable(response) -> None:
    assert response.status_code == 503, (
        f"an outage is a 503, to come back later; got {response.status_code}: {response.text[:200]}"
    )
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "database_unavailable"
    assert response.headers["retry-after"].isdigit(), "503 says when to try again"


async def test_an_unreachable_database_is_a_503(settings, client_of):
    nowhere = settings.model_copy(
        update={"database_url": "postgresql+asyncpg://nobody:nothing@127.0.0.1:1/none"}
    )
    app = create_app(nowhere)
    async with LifespanManager(app), client_of(app) as client:
        response = await client.post("/users", json=NEW_USER)

    assert_database_unavailable(response)
    assert "127.0.0.1" not in response.text, "the answer names no server, port or driver"


async def test_no_free_connection_in_time_is_a_503_and_the_service_recovers(app_with):
    pool = {"database_pool_size": 1, "database_max_overflow": 0}
    async with app_with(**pool, database_pool_timeout_seconds=0.2) as (app, client):
        async with app.state.resources.engine.connect() as held:  # the pool's one connection
            await held.execute(text("SELECT 1"))
            starved = await client.post("/users", json=NEW_USER)
        await asyncio.sleep(0)
        recovered = await client.post("/users", json=NEW_USER)

    assert_database_unavailable(starved)
    assert recovered.status_code == 201, f"once a connection is free again: {recovered.text}"
