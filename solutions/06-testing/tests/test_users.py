"""The users API, pinned down: status codes, pagination, partial updates and duplicates."""

import pytest

pytestmark = pytest.mark.exercise("testing.users")


async def test_registering_answers_201_with_the_user_and_no_password(client):
    response = await client.post(
        "/users/", json={"email": "ada@example.com", "password": "correct horse"}
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["email"] == "ada@example.com"
    assert "password" not in body
    assert "hashed_password" not in body
    assert response.headers["Location"] == f"/users/{body['id']}"


async def test_an_email_taken_in_another_letter_case_is_a_409(client, create_user):
    await create_user(email="ada@example.com")

    response = await client.post(
        "/users", json={"email": "ADA@Example.com", "password": "correct horse"}
    )

    assert response.status_code == 409, "one address in two letter cases is one account"


async def test_pages_start_at_the_oldest_user_and_count_every_user(client, create_user, login):
    accounts = [await create_user() for _ in range(5)]
    tokens = await login(accounts[0])

    first = await client.get("/users", params={"limit": 2, "offset": 0}, headers=tokens.headers)
    last = await client.get("/users", params={"limit": 2, "offset": 4}, headers=tokens.headers)

    assert first.status_code == 200, first.text
    assert [user["id"] for user in first.json()["items"]] == [str(a.id) for a in accounts[:2]]
    assert [user["id"] for user in last.json()["items"]] == [str(accounts[4].id)]
    assert first.json()["total"] == 5, "total counts every user, not the ones on the page"


async def test_patch_changes_only_the_fields_sent(client, create_user, login):
    account = await create_user(full_name="Ada Lovelace")
    tokens = await login(account)

    response = await client.patch(
        f"/users/{account.id}", json={"email": "countess@example.com"}, headers=tokens.headers
    )

    assert response.status_code == 200, response.text
    assert response.json()["email"] == "countess@example.com"
    assert response.json()["full_name"] == "Ada Lovelace", "a field not sent must keep its value"


async def test_delete_answers_204_with_no_body(client, create_user, login):
    account = await create_user()
    tokens = await login(account)

    response = await client.delete(f"/users/{account.id}", headers=tokens.headers)

    assert response.status_code == 204, response.text
    assert response.content == b""
