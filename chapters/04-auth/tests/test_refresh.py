"""Exercise auth.refresh: POST /auth/refresh trades a refresh token for a new pair, and each
refresh token works once, even when many requests race with it."""

import asyncio

import pytest
from auth_helpers import tokens_from, unverified_claims

pytestmark = pytest.mark.exercise("auth.refresh")

WHERE = (
    "Revoke the refresh token as it is used: revoke_token in app/auth/revocation.py (one SET "
    "with nx and ex), called from rotate_refresh_token in app/auth/service.py (exercise "
    "auth.refresh)."
)


async def post_refresh(client, refresh_token: str):
    return await client.post("/auth/refresh", json={"refresh_token": refresh_token})


async def revocation_keys(app, settings, jti: str) -> list[str]:
    """The Redis keys under the test's prefix that name this jti."""
    pattern = f"{settings.redis_key_prefix}*{jti}*"
    return [key async for key in app.state.redis.scan_iter(match=pattern)]


async def test_a_refresh_token_gives_a_new_pair_once(client, create_user, login):
    tokens = await login(await create_user())

    first = await post_refresh(client, tokens.refresh_token)
    new = tokens_from(first, "POST /auth/refresh with a fresh refresh token", WHERE)
    again = await post_refresh(client, tokens.refresh_token)

    old_jtis = {unverified_claims(t)["jti"] for t in (tokens.access_token, tokens.refresh_token)}
    new_jtis = {unverified_claims(t)["jti"] for t in (new.access_token, new.refresh_token)}
    assert not old_jtis & new_jtis, "The new pair should be two new tokens, with new jtis."
    me = await client.get("/users/me", headers=new.headers)
    assert me.status_code == 200, (
        f"The new access token should work on GET /users/me (exercise auth.current_user); it "
        f"answered {me.status_code}: {me.text}"
    )
    assert again.status_code == 401, (
        f"Using a refresh token a second time should answer 401: a reused refresh token means "
        f"it was stolen, or copied. It answered {again.status_code}. {WHERE}"
    )
    assert (await post_refresh(client, new.refresh_token)).status_code == 200, (
        "The new refresh token should work, once: the chain goes on."
    )


async def test_an_access_token_is_not_a_refresh_token(client, create_user, login):
    tokens = await login(await create_user())

    refused = await post_refresh(client, tokens.access_token)
    accepted = await post_refresh(client, tokens.refresh_token)

    assert accepted.status_code == 200, (
        f"POST /auth/refresh with the refresh token should answer 200; it answered "
        f"{accepted.status_code}: {accepted.text}. {WHERE}"
    )
    assert refused.status_code == 401, (
        f"POST /auth/refresh with an access token should answer 401; it answered "
        f"{refused.status_code}. decode_token(..., expected_type='refresh') refuses it."
    )


async def test_ten_concurrent_refreshes_with_one_token_let_exactly_one_through(
    client, create_user, login, app
):
    tokens = await login(await create_user())
    # Ten idle connections first: a request that had to open one would reach Redis late, after
    # the others had finished, and a check-then-revoke would look atomic.
    await asyncio.gather(*(app.state.redis.ping() for _ in range(10)))

    responses = await asyncio.gather(
        *(post_refresh(client, tokens.refresh_token) for _ in range(10))
    )

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [401] * 9, (
        f"Ten requests racing with one refresh token should give exactly one new pair (one "
        f"200, nine 401); they got {statuses}. Checking first (EXISTS) and revoking after "
        f"lets several through: one SET with nx=True both checks and revokes, atomically. "
        f"{WHERE}"
    )


async def test_a_used_refresh_token_is_remembered_for_its_remaining_life(
    client, create_user, login, app, settings
):
    tokens = await login(await create_user())
    jti = unverified_claims(tokens.refresh_token)["jti"]

    await post_refresh(client, tokens.refresh_token)

    keys = await revocation_keys(app, settings, jti)
    assert len(keys) == 1, (
        f"Using a refresh token should leave one Redis key naming its jti, under "
        f"settings.redis_key_prefix; found {keys}. {WHERE}"
    )
    ttl = await app.state.redis.ttl(keys[0])
    lifetime = settings.refresh_token_ttl_seconds
    assert lifetime - 5 <= ttl <= lifetime, (
        f"The mark should live as long as the token could still be used "
        f"(ex=claims.seconds_left(), about {lifetime} s here), and then go: its TTL is {ttl} "
        f"(-1 means it never expires)."
    )
