"""Exercise auth.current_user: the bearer token names the caller, but only while the token is
a valid access token, its login is alive and its user exists. Every other request is a 401
with WWW-Authenticate; a login store that cannot answer is a 503 (fail closed)."""

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
from redis.asyncio import Redis

pytestmark = pytest.mark.exercise("auth.current_user")

WHERE = "Finish get_current_login in app/users/dependencies.py (exercise auth.current_user)."
DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connections are refused


async def caller_of(client, tokens, user) -> None:
    """A good token works, or the refusals below would pass for nothing."""
    response = await client.get("/users/me", headers=tokens.headers)
    assert response.status_code == 200, (
        f"GET /users/me with a fresh access token should answer 200 with the caller; it "
        f"answered {response.status_code}: {response.text}. {WHERE}"
    )
    assert response.json().get("id") == str(user.id), (
        f"GET /users/me should answer the token's user ({user.id}); it answered "
        f"{response.json()}. The user is the token's `sub`. {WHERE}"
    )


async def get_me(client, headers, what: str):
    """GET /users/me, with an exception escaping the app reported as the 500 it would be."""
    try:
        return await client.get("/users/me", headers=headers)
    except Exception as error:
        pytest.fail(
            f"GET /users/me {what} raised {type(error).__name__} ({error}) out of the app, "
            f"which a client sees as a 500. Catch it in get_current_login and answer 401 "
            f"(unauthorized(...)), as for any caller the service cannot know. {WHERE}"
        )


def assert_unauthorized(response, what: str) -> None:
    assert response.status_code == 401, (
        f"{what} should answer 401; it answered {response.status_code} "
        f"({response.text[:100]}). {WHERE}"
    )
    assert response.headers.get("www-authenticate") == "Bearer", (
        f"{what}: a 401 should carry `WWW-Authenticate: Bearer` (RFC 6750), which "
        f"unauthorized() adds; it carries {response.headers.get('www-authenticate')!r}. {WHERE}"
    )


async def test_users_me_answers_the_caller_whole(client, create_user, login):
    user = await create_user()
    tokens = await login(user)

    await caller_of(client, tokens, user)

    body = (await client.get("/users/me", headers=tokens.headers)).json()
    assert (body["email"], body["role"]) == (user.email, "user"), (
        f"GET /users/me should show the caller its own email and role; got {body}."
    )
    assert not {"password", "hashed_password"} & set(body), "Never answer the password's hash."


async def test_a_request_without_a_token_is_a_401_that_asks_for_one(client, create_user, login):
    user = await create_user()
    await caller_of(client, await login(user), user)

    for path in ("/users/me", f"/users/{user.id}"):
        assert_unauthorized(await client.get(path), f"GET {path} without a token")


async def test_a_token_whose_login_ended_is_refused(client, create_user, login, resources):
    user = await create_user()
    tokens = await login(user)
    await caller_of(client, tokens, user)
    # The login ends as logout or a reused refresh token would end it: its one key goes.
    await resources.redis.delete(resources.logins.key(tokens.family))

    response = await get_me(client, tokens.headers, "with the token of an ended login")

    assert_unauthorized(
        response,
        "GET /users/me with a valid access token whose login has ended (its key is gone from "
        "Redis, as after a logout; ask resources.logins whether it is alive)",
    )


async def test_a_token_of_a_user_who_no_longer_exists_is_refused(
    client, create_user, login, resources
):
    user = await create_user()
    await caller_of(client, await login(user), user)
    # A login that is alive, for a user id that has no row: as if the user had been deleted.
    ghost, family = uuid4(), uuid4().hex
    await resources.logins.start(user_id=ghost, family=family, refresh_jti=uuid4().hex)
    token = forge(claims_for(ghost, family=family))

    what = "with the token of a user who does not exist"
    response = await get_me(client, bearer(token), what)

    assert_unauthorized(response, f"GET /users/me {what}")


BAD_TOKENS = {
    "expired": lambda user, tokens: forge(
        claims_for(
            user.id, family=tokens.family, iat=int(time.time()) - 700, exp=int(time.time()) - 5
        )
    ),
    "with a tampered signature": lambda user, tokens: tamper_with_signature(tokens.access_token),
    "with a tampered payload": lambda user, tokens: tamper_with_payload(
        tokens.access_token, exp=int(time.time()) + 10**6
    ),
    "with alg none": lambda user, tokens: forge(
        claims_for(user.id, family=tokens.family), alg="none"
    ),
    "signed with another key": lambda user, tokens: forge(
        claims_for(user.id, family=tokens.family),
        key="another-deployment-signs-with-this-secret-0123456789",
    ),
    "that is a refresh token": lambda user, tokens: tokens.refresh_token,
    "that is not a JWT": lambda user, tokens: "not-a-token",
}


@pytest.mark.parametrize("kind", BAD_TOKENS)
async def test_a_bad_token_of_a_live_login_is_refused_with_401(client, create_user, login, kind):
    user = await create_user()
    tokens = await login(user)
    await caller_of(client, tokens, user)

    token = BAD_TOKENS[kind](user, tokens)
    response = await get_me(client, bearer(token), f"with an access token {kind}")

    assert_unauthorized(
        response,
        f"GET /users/me with an access token {kind} (of a login that is alive: decode the "
        f"token as an access token before anything else)",
    )


async def test_when_the_login_store_cannot_answer_nobody_is_let_in(
    client, create_user, login, resources, monkeypatch
):
    user = await create_user()
    tokens = await login(user)
    await caller_of(client, tokens, user)
    dead = Redis.from_url(DEAD_REDIS, decode_responses=True)
    monkeypatch.setattr(resources.logins, "_redis", dead)  # the logins alone lose Redis

    try:
        response = await client.get("/users/me", headers=tokens.headers)
    except Exception as error:
        pytest.fail(
            f"When Redis cannot say whether the login is alive, GET /users/me raised "
            f"{type(error).__name__} ({error}), a 500. It should answer 503: turn "
            f"LoginStoreUnavailable into unavailable(...). {WHERE}"
        )
    finally:
        await dead.aclose()

    assert response.status_code == 503, (
        f"When Redis cannot say whether the login is alive, GET /users/me should answer 503 "
        f"(fail closed: not the client's fault, and no access on a guess); it answered "
        f"{response.status_code}: {response.text}. Ask resources.logins whether the login is "
        f"alive; when it cannot say, it raises LoginStoreUnavailable: turn that into "
        f"unavailable(...). {WHERE}"
    )
    assert response.headers.get("retry-after"), "A 503 says when to try again (Retry-After)."
