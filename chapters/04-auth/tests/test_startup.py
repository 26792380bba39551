"""What the chapter gives, before and after every exercise (no exercise marker): the app
starts, and the account rules of app/users/schemas.py hold."""

import pytest
from pydantic import ValidationError
from sqlalchemy import text

from app.users.schemas import AccountUpdate, AdminUserUpdate, UserCreate

PASSWORD = "correct horse battery staple"


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
    response = await client.post("/users", json={"email": "ada@example.com", "password": PASSWORD})

    assert response.status_code == 201, (
        f"POST /users with an email and a password should answer 201; it answered "
        f"{response.status_code}: {response.text}"
    )
    assert "password" not in response.text, (
        f"The answer must never carry the password or its hash; it was {response.text}"
    )
    assert response.json()["role"] == "user", "A new account has the `user` role."
    async with app.state.resources.engine.connect() as connection:
        stored = await connection.scalar(text("SELECT hashed_password FROM users"))
    assert stored != PASSWORD, "The database must never hold the password itself."


async def test_a_password_is_needed_to_register(client):
    # The article's call, with only an email, is not enough from this chapter on.
    response = await client.post("/users", json={"email": "ada@example.com"})

    assert response.status_code == 422, (
        f"POST /users without a password should answer 422; it answered {response.status_code}."
    )
    assert "password" in response.text, "The 422 should name the missing field, password."


@pytest.mark.parametrize(
    ("password", "words"),
    [("short", "at least 8 characters"), ("x" * 129, "at most 128 characters")],
    ids=["too short", "too long"],
)
async def test_a_password_of_the_wrong_length_is_a_422_that_counts_characters(
    client, password, words
):
    response = await client.post("/users", json={"email": "ada@example.com", "password": password})

    assert response.status_code == 422, f"That password should be refused: {response.text}"
    (error,) = response.json()["detail"]
    assert words in error["msg"], (
        f"The 422 should say the password needs {words}; it says {error['msg']!r} "
        "(a SecretStr's own length bounds speak of 'items': app/users/schemas.py checks the "
        "length itself)."
    )


def test_a_password_must_be_text_argon2_can_hash():
    # A lone surrogate cannot be encoded to UTF-8, and argon2 hashes UTF-8 bytes. (Over HTTP
    # the 422 of this chapter echoes the input, which JSON cannot encode either: chapter 05's
    # error answers never echo what was sent.)
    with pytest.raises(ValidationError, match="lone surrogate"):
        UserCreate.model_validate({"email": "ada@example.com", "password": "abc\ud800defgh"})


async def test_nobody_registers_as_an_admin(client):
    response = await client.post(
        "/users", json={"email": "ada@example.com", "password": PASSWORD, "role": "admin"}
    )

    assert response.status_code == 422, "Unknown fields, `role` among them, are refused."


def test_a_user_changes_no_role_and_no_credentials_without_the_current_password():
    with pytest.raises(ValidationError):
        AccountUpdate.model_validate({"role": "admin"})
    for changes in ({"password": "a brand new passphrase"}, {"email": "new@example.com"}):
        with pytest.raises(ValidationError, match="current_password"):
            AccountUpdate.model_validate(changes)
    assert AccountUpdate.model_validate({"full_name": "Ada"}).changes_credentials is False
    assert AdminUserUpdate.model_validate({"role": "admin"}).role == "admin"
