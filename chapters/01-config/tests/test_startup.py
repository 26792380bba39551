"""The app imports and starts, before and after every exercise (no exercise marker)."""

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from pydantic import ValidationError

from app.main import create_app


async def test_the_app_starts_with_settings_from_the_environment():
    try:
        app = create_app()  # no settings given: they come from the environment (none set)
    except ValidationError as error:
        pytest.fail(
            "With no environment variables and no .env file (development and every default) "
            f"the settings were refused: {error.errors()[0]['msg']}. A laptop must start with "
            "no configuration: if this is your secret guard, let it refuse only when "
            "ENVIRONMENT=production (exercise config.secret_guard)."
        )

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
