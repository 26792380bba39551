"""The app imports and starts, before and after every exercise (no exercise marker)."""

from sqlalchemy import text


async def test_the_app_starts_and_serves_its_schema(client):
    response = await client.get("/openapi.json")

    assert response.status_code == 200, (
        f"The app should start and serve its OpenAPI schema; GET /openapi.json answered "
        f"{response.status_code}. Look at create_app and the lifespan in app/main.py."
    )
    assert (await client.get("/health/live")).json() == {"status": "ok"}, (
        "GET /health/live is chapter 01's: keep it."
    )


async def test_registering_takes_a_password_and_never_shows_it(client, app):
    password = "correct horse battery staple"
    response = await client.post("/users/", json={"email": "ada@example.com", "password": password})

    assert response.status_code == 201, (
        f"POST /users/ with an email and a password should answer 201; it answered "
        f"{response.status_code}: {response.text}"
    )
    assert "password" not in response.text, (
        f"The answer must never carry the password or its hash; it was {response.text}"
    )
    async with app.state.engine.connect() as connection:
        stored = await connection.scalar(text("SELECT hashed_password FROM users"))
    assert stored != password, "The database must never hold the password itself."


async def test_a_password_is_now_required_to_register(client):
    # The article's call, with only an email, is not enough from this chapter on.
    response = await client.post("/users/", json={"email": "ada@example.com"})

    assert response.status_code == 422, (
        f"POST /users/ without a password should answer 422; it answered {response.status_code}."
    )
    assert "password" in response.text, "The 422 should name the missing field, password."
