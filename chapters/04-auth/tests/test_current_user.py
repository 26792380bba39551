"""Exercise auth.current_user: the bearer token names the caller; reads need one, /users/me
answers the caller, and users change and delete only their own account."""

import time
from uuid import uuid4

import pytest
from auth_helpers import (
    bearer,
    claims_for,
    forge,
    tamper_with_payload,
    tamper_with_signature,
)

pytestmark = pytest.mark.exercise("auth.current_user")

WHERE = (
    "See get_access_claims and get_current_user in app/auth/dependencies.py and the routes "
    "in app/users/router.py (exercise auth.current_user)."
)


async def must_know_the_caller(client, user, tokens) -> None:
    """A good token works, or the refusals below would pass for nothing."""
    response = await client.get("/users/me", headers=tokens.headers)
    assert response.status_code == 200, (
        f"GET /users/me with a fresh access token should answer 200 with the caller; it "
        f"answered {response.status_code}: {response.text}. Add the /me route (before "
        f"/{{user_id}}, or 'me' is read as an id) and finish the dependencies. {WHERE}"
    )
    assert response.json().get("id") == str(user.id), (
        f"GET /users/me should answer the token's user ({user.id}); it answered {response.json()}."
    )


def assert_unauthorized(response, what: str) -> None:
    assert response.status_code == 401, (
        f"{what} should answer 401; it answered {response.status_code} ({response.text[:80]}). "
        f"A route that needs a logged-in user asks for a CurrentUser. {WHERE}"
    )
    assert response.headers.get("www-authenticate") == "Bearer", (
        f"{what}: a 401 should carry `WWW-Authenticate: Bearer` (use unauthorized())."
    )


async def test_users_me_answers_the_caller(client, create_user, login):
    user = await create_user()
    tokens = await login(user)

    await must_know_the_caller(client, user, tokens)

    body = (await client.get("/users/me", headers=tokens.headers)).json()
    assert body["email"] == user.email
    assert not {"password", "hashed_password"} & set(body), "Never answer the password's hash."


async def test_reads_need_a_token(client, create_user, login):
    user, other = await create_user(), await create_user()
    tokens = await login(user)
    await must_know_the_caller(client, user, tokens)

    for path in ("/users/me", "/users", f"/users/{other.id}"):
        assert_unauthorized(await client.get(path), f"GET {path} without a token")

    listed = await client.get("/users", headers=tokens.headers)
    read = await client.get(f"/users/{other.id}", headers=tokens.headers)
    assert listed.status_code == 200, (
        f"GET /users with a token should answer 200: {listed.text}. Give list_users a "
        f"CurrentUser parameter. {WHERE}"
    )
    assert listed.json()["total"] == 2
    assert read.status_code == 200, f"GET /users/{{id}} with a token should answer 200: {read.text}"
    assert read.json()["id"] == str(other.id)


BAD_TOKENS = {
    "expired": lambda user, tokens: forge(
        claims_for(user.id, iat=int(time.time()) - 700, exp=int(time.time()) - 5)
    ),
    "with a tampered signature": lambda user, tokens: tamper_with_signature(tokens.access_token),
    "with a tampered payload": lambda user, tokens: tamper_with_payload(
        tokens.access_token, sub=str(uuid4())
    ),
    "with alg none": lambda user, tokens: forge(claims_for(user.id), alg="none"),
    "signed with another key": lambda user, tokens: forge(
        claims_for(user.id), key="another-deployment-signs-with-this-secret-0123456789"
    ),
    "that is a refresh token": lambda user, tokens: tokens.refresh_token,
    "of a user that does not exist": lambda user, tokens: forge(claims_for(uuid4())),
    "that is not a JWT": lambda user, tokens: "not-a-token",
}


@pytest.mark.parametrize("kind", BAD_TOKENS)
async def test_a_bad_token_is_refused_with_401(client, create_user, login, kind):
    user = await create_user()
    tokens = await login(user)
    await must_know_the_caller(client, user, tokens)

    token = BAD_TOKENS[kind](user, tokens)
    response = await client.get("/users/me", headers=bearer(token))

    assert_unauthorized(response, f"GET /users/me with an access token {kind}")


async def test_users_cannot_change_or_delete_each_other(client, create_user, login):
    mallory, victim = await create_user(), await create_user()
    tokens = await login(mallory)
    await must_know_the_caller(client, mallory, tokens)

    changed = await client.patch(
        f"/users/{victim.id}", json={"full_name": "Owned"}, headers=tokens.headers
    )
    deleted = await client.delete(f"/users/{victim.id}", headers=tokens.headers)

    for response, what in ((changed, "PATCH"), (deleted, "DELETE")):
        assert response.status_code == 403, (
            f"{what} /users/{{someone else's id}} should answer 403 Forbidden; it answered "
            f"{response.status_code}. Take an AccountOwner in the route; get_account_owner "
            f"refuses an id that is not the caller's. {WHERE}"
        )
    victim_now = await client.get(f"/users/{victim.id}", headers=tokens.headers)
    assert victim_now.status_code == 200, "The other account must still exist."
    assert victim_now.json()["full_name"] == "Ada Lovelace", "It must not have changed either."


async def test_users_change_and_delete_their_own_account(client, create_user, login):
    user = await create_user()
    tokens = await login(user)
    await must_know_the_caller(client, user, tokens)

    changed = await client.patch(
        f"/users/{user.id}", json={"full_name": "Grace Hopper"}, headers=tokens.headers
    )
    assert changed.status_code == 200, (
        f"PATCH of one's own account should answer 200; it answered {changed.status_code}: "
        f"{changed.text}. {WHERE}"
    )
    assert changed.json()["full_name"] == "Grace Hopper"
    deleted = await client.delete(f"/users/{user.id}", headers=tokens.headers)
    assert deleted.status_code == 204, f"DELETE of one's own account should answer 204. {WHERE}"

    afterwards = await client.get("/users/me", headers=tokens.headers)
    assert_unauthorized(afterwards, "GET /users/me with the token of a deleted account")


async def test_a_new_password_set_by_patch_is_the_one_that_logs_in(client, create_user, login):
    user = await create_user()
    tokens = await login(user)
    await must_know_the_caller(client, user, tokens)
    new_password = "a brand new passphrase"

    changed = await client.patch(
        f"/users/{user.id}", json={"password": new_password}, headers=tokens.headers
    )

    assert changed.status_code == 200, f"PATCH with a new password answered {changed.text}"
    old = await client.post("/auth/token", data={"username": user.email, "password": user.password})
    new = await client.post("/auth/token", data={"username": user.email, "password": new_password})
    assert (old.status_code, new.status_code) == (401, 200), (
        f"After a password change the old password should fail (401) and the new one work "
        f"(200); they answered {old.status_code} and {new.status_code}."
    )
