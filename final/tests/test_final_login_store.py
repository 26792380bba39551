"""Logins in Redis: one key per live login, whatever the traffic, and none once it ended.

Issue 13 (finding 5): each refresh used to leave a 14-day "used" mark, so a client looping on
/auth/refresh grew Redis without bound. A login is now one key whose value is its current
refresh token's jti.
"""

import asyncio
import base64
import json

import pytest


def family_of(token: str) -> str:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["family"]


async def keys_of(app) -> set[str]:
    settings = app.state.settings
    redis = app.state.resources.redis
    return {key async for key in redis.scan_iter(match=f"{settings.redis_key_prefix}*")}


@pytest.fixture
def settings(settings):
    # Refreshing in a loop is what this file does: the per-address limit would stop it.
    return settings.model_copy(update={"refresh_rate_limit": 1000})


async def test_refreshing_in_a_loop_keeps_one_key_per_login(client, create_user, login, app):
    tokens = await login(await create_user())
    first = await client.post("/auth/refresh", json={"refresh_token": tokens.refresh_token})
    refresh_token = first.json()["refresh_token"]
    keys_after_one = await keys_of(app)

    for _ in range(30):
        response = await client.post("/auth/refresh", json={"refresh_token": refresh_token})
        assert response.status_code == 200, response.text
        refresh_token = response.json()["refresh_token"]

    assert await keys_of(app) == keys_after_one, (
        "30 more refreshes must not add a key: the login's one key holds its current refresh token"
    )


async def test_a_reused_refresh_token_ends_the_login_and_leaves_nothing(
    client, create_user, login, app
):
    tokens = await login(await create_user())
    login_key = app.state.resources.logins.key(family_of(tokens.access_token))
    await client.post("/auth/refresh", json={"refresh_token": tokens.refresh_token})

    reuse = await client.post("/auth/refresh", json={"refresh_token": tokens.refresh_token})

    assert reuse.status_code == 401
    assert reuse.json()["code"] == "refresh_token_reused"
    assert not await app.state.resources.redis.exists(login_key)


async def test_an_ended_login_cannot_be_refreshed_back_to_life(client, create_user, login, app):
    tokens = await login(await create_user())
    await client.post("/auth/logout", headers=tokens.headers)

    response = await client.post("/auth/refresh", json={"refresh_token": tokens.refresh_token})

    assert response.status_code == 401
    assert response.json()["code"] == "login_ended"
    login_key = app.state.resources.logins.key(family_of(tokens.access_token))
    assert not await app.state.resources.redis.exists(login_key), "SET ... XX never recreates it"


async def test_a_users_list_of_logins_forgets_the_expired_ones(client, create_user, login, app):
    settings = app.state.settings
    redis = app.state.resources.redis
    user = await create_user()
    first = await login(user)
    listing = f"{settings.redis_key_prefix}user-logins:{user.id}"
    # As if the first login's refresh token had expired long ago.
    await redis.zadd(listing, {family_of(first.access_token): 1})

    await login(user)

    assert family_of(first.access_token) not in await redis.zrange(listing, 0, -1)
    assert await redis.zcard(listing) == 1


async def test_a_login_kept_alive_by_refreshes_still_ends_with_a_password_change(
    client, create_user, login, app
):
    """Found by a learner trial: a refresh renewed the login's key but not its entry in the
    user's list, so after the first lifetime the list forgot the login and a password change
    (which ends what the list names) left a thief who kept refreshing logged in."""
    settings = app.state.settings
    redis = app.state.resources.redis
    user = await create_user()
    thief = await login(user)
    family = family_of(thief.access_token)
    listing = f"{settings.redis_key_prefix}user-logins:{user.id}"
    # The thief's login near the end of its first lifetime: its key and its listing both.
    now = await redis.time()
    await redis.zadd(listing, {family: now[0] + 2})
    await redis.expire(listing, 2)
    await redis.expire(app.state.resources.logins.key(family), 2)
    refreshed = await client.post("/auth/refresh", json={"refresh_token": thief.refresh_token})
    assert refreshed.status_code == 200, refreshed.text
    thiefs_access = {"Authorization": f"Bearer {refreshed.json()['access_token']}"}
    await asyncio.sleep(2.5)  # past the first lifetime

    owner = await login(user)  # a login prunes the list of what it takes for expired
    changed = await client.patch(
        "/users/me",
        json={"password": "a brand new passphrase", "current_password": user.password},
        headers=owner.headers,
    )

    assert changed.status_code == 200, changed.text
    me = await client.get("/users/me", headers=thiefs_access)
    assert me.status_code == 401, "the refreshed login outlived the password change"
