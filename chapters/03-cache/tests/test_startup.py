"""The app imports and starts, before and after every exercise (no exercise marker)."""


async def test_the_app_starts_and_serves_its_schema(client):
    response = await client.get("/openapi.json")

    assert response.status_code == 200, (
        f"The app should start and serve its OpenAPI schema; GET /openapi.json answered "
        f"{response.status_code}. Look at create_app and the lifespan in app/main.py."
    )


async def test_liveness_still_answers(client):
    response = await client.get("/health/live")

    assert response.json() == {"status": "ok"}, "GET /health/live is chapter 01's: keep it."
