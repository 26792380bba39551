"""The app imports and starts, before and after every exercise (no exercise marker)."""


async def test_the_app_starts_and_serves_its_schema(client):
    response = await client.get("/openapi.json")

    assert response.status_code == 200, (
        f"The app should start and serve its OpenAPI schema; GET /openapi.json answered "
        f"{response.status_code}. Look at create_app in app/main.py."
    )


async def test_a_user_can_still_register(client):
    # The article's example: POST /users/ with an email answers 201.
    response = await client.post(
        "/users/", json={"email": "ada@example.com", "password": "correct horse battery staple"}
    )

    assert response.status_code == 201, (
        f"POST /users/ should still answer 201 Created; got {response.status_code}: {response.text}"
    )
