"""The app imports and starts, before and after every exercise (no exercise marker)."""


async def test_the_app_starts_and_registers_a_user(client):
    schema = await client.get("/openapi.json")
    # The article's example: a new email answers 201, with or without the trailing slash.
    user = {"email": "ada@example.com", "password": "s3cret-pw"}
    created = await client.post("/users/", json=user)

    assert schema.status_code == 200, (
        f"The app should start and serve its OpenAPI schema; GET /openapi.json answered "
        f"{schema.status_code}. Look at create_app in app/main.py."
    )
    assert created.status_code == 201, (
        f"POST /users/ with a new email should answer 201; it answered {created.status_code}: "
        f"{created.text}"
    )
