"""Exercise config.health: the liveness probe."""

import pytest

pytestmark = pytest.mark.exercise("config.health")


async def test_liveness_answers_ok(client):
    response = await client.get("/health/live")

    assert response.status_code == 200, (
        f"GET /health/live should answer 200; it answered {response.status_code}. "
        "Add the route to the router in app/health.py (exercise config.health)."
    )
    assert response.json() == {"status": "ok"}, (
        f'GET /health/live should answer {{"status": "ok"}}; it answered {response.json()}.'
    )
