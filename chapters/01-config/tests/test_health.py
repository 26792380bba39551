"""Exercise config.health: the liveness probe."""

import pytest

pytestmark = pytest.mark.exercise("config.health")

WHERE = "Add the route to the router in app/health.py (exercise config.health)."


async def test_liveness_answers_ok(client):
    response = await client.get("/health/live")

    assert response.status_code == 200, (
        f"GET /health/live should answer 200; it answered {response.status_code}. The router "
        f"already carries the /health prefix, so the route's own path is /live. {WHERE}"
    )
    assert response.json() == {"status": "ok"}, (
        f'GET /health/live should answer {{"status": "ok"}}; it answered {response.text}. {WHERE}'
    )
