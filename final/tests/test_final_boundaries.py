"""String bounds, at the boundary: the longest value allowed is accepted and kept whole, one
character more is a 422 problem naming the field (never a 500, never silently cut)."""

import pytest

from app.users.models import Role

PROBLEM = "application/problem+json"
PASSWORD_MIN, PASSWORD_MAX = 8, 128  # app/users/schemas.py: Password
FULL_NAME_MAX = 200  # app/users/schemas.py: FullName
EMAIL_MAX = 254  # the longest address email-validator accepts (the column holds 320)
REFRESH_TOKEN_MAX = 4096  # app/auth/schemas.py: RefreshRequest


def password_of(length: int) -> str:
    return "".join("abcdefghij"[i % 10] for i in range(length))


def email_of(length: int) -> str:
    domain = ".".join(["d" * 63] * 3) + ".com"  # 195 characters, each label at its maximum
    return "a" * (length - len(domain) - 1) + "@" + domain


def assert_field_refused(response, field: str) -> None:
    assert response.status_code == 422, f"{field} over its bound should be a 422: {response.text}"
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == "validation_error"
    fields = [error["field"] for error in body["errors"]]
    assert fields == [field], f"the problem should name {field} alone; it names {fields}"


def test_the_helpers_make_values_of_the_length_asked():
    assert [len(password_of(n)) for n in (7, 128, 129)] == [7, 128, 129]
    assert [len(email_of(n)) for n in (254, 255)] == [254, 255]


@pytest.mark.parametrize("length", [PASSWORD_MIN, PASSWORD_MAX])
async def test_a_password_at_its_bounds_is_accepted_and_kept_whole(client, length):
    email = f"len{length}@example.com"
    password = password_of(length)

    registered = await client.post("/users", json={"email": email, "password": password})
    login = await client.post("/auth/token", data={"username": email, "password": password})
    shorter = await client.post("/auth/token", data={"username": email, "password": password[:-1]})

    assert registered.status_code == 201, registered.text
    assert login.status_code == 200, f"a {length}-character password must log in: {login.text}"
    assert shorter.status_code == 401, "the whole password counts, not a prefix of it"


@pytest.mark.parametrize("length", [PASSWORD_MIN - 1, PASSWORD_MAX + 1])
async def test_a_password_past_its_bounds_is_a_422_naming_the_field(client, length):
    password = password_of(length)

    response = await client.post("/users", json={"email": "x@example.com", "password": password})

    assert_field_refused(response, "body.password")
    assert password not in response.text, "the rejected password must not be echoed"


@pytest.mark.parametrize("as_admin", [False, True], ids=["PATCH /users/me", "PATCH /users/{id}"])
async def test_a_password_change_has_the_same_bounds(client, create_user, login, as_admin):
    user = await create_user()
    tokens = await login(await create_user(role=Role.ADMIN)) if as_admin else await login(user)
    path = f"/users/{user.id}" if as_admin else "/users/me"
    confirm = {} if as_admin else {"current_password": user.password}

    too_long = await client.patch(
        path, json={"password": password_of(PASSWORD_MAX + 1), **confirm}, headers=tokens.headers
    )
    longest = await client.patch(
        path, json={"password": password_of(PASSWORD_MAX), **confirm}, headers=tokens.headers
    )
    relogin = await client.post(
        "/auth/token", data={"username": user.email, "password": password_of(PASSWORD_MAX)}
    )

    assert_field_refused(too_long, "body.password")
    assert longest.status_code == 200, longest.text
    assert relogin.status_code == 200, "the 128-character password set by the change works"


async def test_a_refresh_token_over_its_maximum_length_is_a_422(client):
    longest = await client.post("/auth/refresh", json={"refresh_token": "x" * REFRESH_TOKEN_MAX})
    too_long = await client.post(
        "/auth/refresh", json={"refresh_token": "x" * (REFRESH_TOKEN_MAX + 1)}
    )

    assert longest.status_code == 401, "within the bound, garbage is simply not a valid token"
    assert_field_refused(too_long, "body.refresh_token")


async def test_a_full_name_at_its_bound_is_accepted_and_one_more_is_refused(
    client, create_user, login
):
    longest = "n" * FULL_NAME_MAX
    registered = await client.post(
        "/users",
        json={"email": "name@example.com", "password": "password123", "full_name": longest},
    )
    tokens = await login(await create_user())
    changed = await client.patch(
        "/users/me", json={"full_name": longest[:-1] + "m"}, headers=tokens.headers
    )
    too_long = await client.patch(
        "/users/me", json={"full_name": longest + "n"}, headers=tokens.headers
    )

    assert registered.status_code == 201, registered.text
    assert registered.json()["full_name"] == longest
    assert changed.status_code == 200, changed.text
    assert changed.json()["full_name"] == longest[:-1] + "m"
    assert_field_refused(too_long, "body.full_name")


async def test_the_longest_email_is_stored_and_one_more_character_is_refused(
    client, create_user, login
):
    longest, too_long = email_of(EMAIL_MAX), email_of(EMAIL_MAX + 1)

    registered = await client.post("/users", json={"email": longest, "password": "password123"})
    login_response = await client.post(
        "/auth/token", data={"username": longest, "password": "password123"}
    )
    refused = await client.post("/users", json={"email": too_long, "password": "password123"})
    tokens = await login(await create_user())
    refused_change = await client.patch(
        "/users/me", json={"email": too_long}, headers=tokens.headers
    )

    assert registered.status_code == 201, registered.text
    assert registered.json()["email"] == longest
    assert login_response.status_code == 200, "the longest address logs in"
    assert_field_refused(refused, "body.email")
    assert_field_refused(refused_change, "body.email")


async def test_a_refused_role_names_the_field_alone(client, create_user, admin_tokens):
    user = await create_user()

    response = await client.patch(
        f"/users/{user.id}", json={"role": "root"}, headers=admin_tokens.headers
    )

    assert_field_refused(response, "body.role")
