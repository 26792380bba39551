"""The users API, pinned down: status codes, pagination, partial updates and duplicates."""

import pytest

from app.users.models import Role

pytestmark = pytest.mark.exercise("testing.users")


async def test_registering_answers_201_with_the_user_and_no_password(client):
    """POST /users answers 201 with the user (its email, no password of any kind) and a
    Location header naming the new user."""
    response = await client.post(
        "/users", json={"email": "ada@example.com", "password": "correct horse"}
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["email"] == "ada@example.com"
    assert not {"password", "hashed_password"} & body.keys(), f"a password in {sorted(body)}"
    assert response.headers["Location"] == f"/users/{body['id']}"


async def test_an_email_taken_in_another_letter_case_is_a_409(client, create_user):
    """A user exists with ada@example.com: registering ADA@Example.com answers 409."""
    await create_user(email="ada@example.com")

    response = await client.post(
        "/users", json={"email": "ADA@Example.com", "password": "correct horse"}
    )

    assert response.status_code == 409, "an address in other letter cases is the same address"


async def test_pages_start_at_the_oldest_user_and_count_every_user(client, create_user, login):
    """An admin and four users, made one after another: GET /users (an admin's route) with
    limit=2 and offset=0 lists the two oldest, in order; offset=4 lists the fifth alone;
    `total` is 5 whatever the page."""
    users = [await create_user(role=Role.ADMIN)] + [await create_user() for _ in range(4)]
    tokens = await login(users[0])

    first = await client.get("/users", params={"limit": 2, "offset": 0}, headers=tokens.headers)
    last = await client.get("/users", params={"limit": 2, "offset": 4}, headers=tokens.headers)

    assert first.status_code == 200, first.text
    assert [item["id"] for item in first.json()["items"]] == [str(user.id) for user in users[:2]]
    assert [item["id"] for item in last.json()["items"]] == [str(users[4].id)]
    assert first.json()["total"] == 5, "total counts every user, not the ones on the page"


async def test_patch_changes_only_the_fields_sent(client, create_user, login):
    """A user with a full name changes only its email (PATCH /users/me, with its
    current_password): the email changes, the full name stays."""
    user = await create_user(full_name="Ada Lovelace")
    tokens = await login(user)

    response = await client.patch(
        "/users/me",
        json={"email": "countess@example.com", "current_password": user.password},
        headers=tokens.headers,
    )

    assert response.status_code == 200, response.text
    assert response.json()["email"] == "countess@example.com"
    assert response.json()["full_name"] == "Ada Lovelace", "a field not sent must keep its value"


async def test_deleting_your_account_answers_204_with_no_body(client, create_user, login):
    """A user deletes its own account (DELETE /users/me): 204 No Content, the body is empty."""
    tokens = await login(await create_user())

    response = await client.delete("/users/me", headers=tokens.headers)

    assert response.status_code == 204, response.text
    assert response.content == b""
