"""Exercise auth.logout: POST /auth/logout ends the login of the access token it is called
with. Its one key in Redis goes, so every token of that login stops working at once, while
the user's other logins carry on."""

import pytest
from auth_helpers import let_in_after_its_login_ended, must_know_the_caller
from redis.asyncio import Redis

from app.security.exceptions import LoginStoreUnavailable

pytestmark = pytest.mark.exercise("auth.logout")

WHERE = "Finish LoginRegistry.end in app/security/logins.py (exercise auth.logout)."
DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connections are refused


async def log_out(client, tokens):
    return await client.post("/auth/logout", headers=tokens.headers)


async def test_after_logout_the_login_and_its_tokens_are_gone(
    client, create_user, login, resources
):
    user = await create_user()
    tokens = await login(user)
    await must_know_the_caller(client, tokens, user)

    response = await log_out(client, tokens)
    me = await client.get("/users/me", headers=tokens.headers)

    assert response.status_code == 204, f"POST /auth/logout should answer 204: {response.text}"
    await let_in_after_its_login_ended(client, resources, tokens)
    assert me.status_code == 401, (
        f"After logout the access token should be refused (401); GET /users/me answered "
        f"{me.status_code}. The login must no longer be alive. {WHERE}"
    )
    assert not await resources.redis.exists(resources.logins.key(tokens.family)), (
        f"After logout the login's key ({resources.logins.key(tokens.family)!r}) should be "
        f"gone from Redis, and with it the login's refresh token. {WHERE}"
    )


async def test_logout_ends_that_login_only(client, create_user, login, resources):
    user = await create_user()
    laptop, phone = await login(user), await login(user)
    await must_know_the_caller(client, laptop, user)

    await log_out(client, laptop)

    assert (await client.get("/users/me", headers=phone.headers)).status_code == 200, (
        f"Logging out on one device must not log the user out everywhere: the other login's "
        f"token should still work. End the one login named by `family`. {WHERE}"
    )
    listing = resources.logins._user_logins_key(user.id)
    families = await resources.redis.zrange(listing, 0, -1)
    assert families == [phone.family], (
        f"The user's list of logins (a sorted set, {listing!r}) should name only the login "
        f"left, {phone.family!r}; it names {families}. A password change reads that list to "
        f"end the others, so take the ended login out of it too. {WHERE}"
    )


async def test_a_logout_that_cannot_reach_redis_is_a_503_not_a_500(
    client, create_user, login, resources, monkeypatch
):
    user = await create_user()
    tokens = await login(user)
    await must_know_the_caller(client, tokens, user)

    async def alive(family: str) -> bool:
        return True

    dead = Redis.from_url(DEAD_REDIS, decode_responses=True)
    monkeypatch.setattr(resources.logins, "is_alive", alive)  # the caller is known...
    monkeypatch.setattr(resources.logins, "_redis", dead)  # ...then Redis goes away
    try:
        response = await log_out(client, tokens)
    except Exception as error:
        pytest.fail(
            f"A logout while Redis is down raised {type(error).__name__} ({error}), which is "
            f"a 500. Wrap the Redis calls as the other methods of LoginRegistry do, so that "
            f"the failure is {LoginStoreUnavailable.__name__} (the route answers 503). {WHERE}"
        )
    finally:
        await dead.aclose()

    assert response.status_code == 503, (
        f"A logout while Redis is down should answer 503, so the client knows its login did "
        f"not end; it answered {response.status_code}. {WHERE}"
    )
