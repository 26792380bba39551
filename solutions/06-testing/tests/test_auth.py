"""Authentication: tokens that must stop working, and tokens that must never work."""

import pytest
from jose import jwt

pytestmark = pytest.mark.exercise("testing.auth")


async def test_a_logged_out_access_token_stops_working(client, create_user, login):
    """Log in, log out (POST /auth/logout with the access token, 204), then GET /users/me
    with the same access token: 401."""
    tokens = await login(await create_user())

    logout = await client.post("/auth/logout", headers=tokens.headers)
    response = await client.get("/users/me", headers=tokens.headers)

    assert logout.status_code == 204, logout.text
    assert response.status_code == 401, "the access token still works after logging out"


async def test_a_refresh_token_works_once(client, create_user, login):
    """POST /auth/refresh twice with one refresh token: 200, then 401."""
    tokens = await login(await create_user())
    body = {"refresh_token": tokens.refresh_token}

    first = await client.post("/auth/refresh", json=body)
    second = await client.post("/auth/refresh", json=body)

    assert first.status_code == 200, first.text
    assert second.status_code == 401, "a used refresh token worked again"


async def test_a_refresh_token_is_not_an_access_token(client, create_user, login):
    """GET /users/me with the refresh token as the bearer token: 401."""
    tokens = await login(await create_user())

    response = await client.get(
        "/users/me", headers={"Authorization": f"Bearer {tokens.refresh_token}"}
    )

    assert response.status_code == 401, response.text


async def test_a_token_signed_with_another_key_is_refused(client, create_user, login):
    """Take a real access token's claims (jose.jwt.get_unverified_claims), sign them with
    another key (jose.jwt.encode, HS256): GET /users/me with that forgery answers 401."""
    tokens = await login(await create_user())
    claims = jwt.get_unverified_claims(tokens.access_token)
    forged = jwt.encode(claims, "not-the-service-secret", algorithm="HS256")

    response = await client.get("/users/me", headers={"Authorization": f"Bearer {forged}"})

    assert response.status_code == 401, response.text


async def test_users_cannot_change_or_delete_other_users(client, create_user, login):
    """Mallory (no admin) PATCHes and DELETEs Ada's account at /users/{id}: 403 both times,
    and Ada's account is as it was."""
    ada, mallory = await create_user(full_name="Ada"), await create_user()
    tokens = await login(mallory)

    patch = await client.patch(f"/users/{ada.id}", json={"full_name": "X"}, headers=tokens.headers)
    delete = await client.delete(f"/users/{ada.id}", headers=tokens.headers)

    assert patch.status_code == 403, patch.text
    assert delete.status_code == 403, delete.text


async def test_a_new_password_needs_the_current_one(client, create_user, login):
    """PATCH /users/me with a new password and no current_password: 422, and the old
    password still logs in (a stolen access token alone must not take the account over)."""
    user = await create_user()
    tokens = await login(user)

    response = await client.patch(
        "/users/me", json={"password": "a brand new secret"}, headers=tokens.headers
    )

    assert response.status_code == 422, response.text
    assert (await login(user)).access_token, "the old password no longer logs in"


async def test_a_new_password_signs_out_the_other_logins(client, create_user, login):
    """Log in twice (a phone and a laptop); change the password from the laptop, with the
    current one: the phone's access token answers 401, the laptop's still works."""
    user = await create_user()
    phone, laptop = await login(user), await login(user)

    change = await client.patch(
        "/users/me",
        json={"password": "a brand new secret", "current_password": user.password},
        headers=laptop.headers,
    )
    on_the_phone = await client.get("/users/me", headers=phone.headers)
    on_the_laptop = await client.get("/users/me", headers=laptop.headers)

    assert change.status_code == 200, change.text
    assert on_the_phone.status_code == 401, "a login opened with the old password lives on"
    assert on_the_laptop.status_code == 200, "the login that changed the password was ended"
