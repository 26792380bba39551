"""The app imports and starts, before and after every exercise (no exercise marker)."""

from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient

from app.main import create_app


async def test_the_app_starts_with_settings_from_the_environment():
    app = create_app()  # no settings given: they come from the environment

    async with (
        LifespanManager(app) as manager,
        AsyncClient(
            transport=ASGITransport(app=manager.app), base_url="http://localhost"
        ) as client,
    ):
        response = await client.get("/openapi.json")

    assert response.status_code == 200, (
        f"The app should start and serve its OpenAPI schema; GET /openapi.json answered "
        f"{response.status_code}. Look at create_app in app/main.py."
    )
