"""Exercise auth.refresh: POST /auth/refresh trades a refresh token for a new pair of the same
login, and each refresh token works once. A second use means two parties hold it: the whole
login ends, whoever used it first. Racing requests cannot both win; an ended login stays
ended; the login keeps one key in Redis however often it refreshes."""

import asyncio
import time

import pytest
from auth_helpers import (
    let_in_after_its_login_ended,
    must_know_the_caller,
    tokens_from,
    unverified_claims,
)
from redis.asyncio import Redis

pytestmark = pytest.mark.exercise("auth.refresh")

WHERE = "Finish LoginRegistry.rotate in app/security/logins.py (exercise auth.refresh)."
DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connections are refused


async def post_refresh(client, refresh_token: str):
    return await client.post("/auth/refresh", json={"refresh_token": refresh_token})


async def test_a_refresh_gives_a_new_pair_of_the_same_login(client, create_user, login, resources):
    user = await create_user()
    tokens = await login(user)

    new = tokens_from(await post_refresh(client, tokens.refresh_token), "POST /auth/refresh")

    claims = unverified_claims(new.refresh_token)
    assert claims.get("family") == tokens.family, "A refresh keeps the login (its family)."
    stored = await resources.redis.get(resources.logins.key(tokens.family))
    assert stored == claims.get("jti"), (
        f"After a refresh the login should hold the jti of the NEW refresh token, the only "
        f"one that works from now on; it holds {stored!r} (the new one is "
        f"{claims.get('jti')!r}). {WHERE}"
    )
    await must_know_the_caller(client, new, user)


async def test_a_reused_refresh_token_ends_the_whole_login(client, create_user, login, resources):
    user = await create_user()
    tokens = await login(user)
    first = await post_refresh(client, tokens.refresh_token)
    thiefs = tokens_from(first, "POST /auth/refresh with a fresh refresh token")

    reuse = await post_refresh(client, tokens.refresh_token)

    assert reuse.status_code == 401, (
        f"A refresh token used a second time should be refused with 401; it answered "
        f"{reuse.status_code}. The login must remember which refresh token is its current "
        f"one and tell a used one apart. {WHERE}"
    )
    await let_in_after_its_login_ended(client, resources, thiefs)
    me = await client.get("/users/me", headers=thiefs.headers)
    assert me.status_code == 401, (
        f"After a reuse, the pair the first use got must stop working too (the service cannot "
        f"tell the thief from the owner, so the login ends); its access token still answered "
        f"{me.status_code}. End the login when the token was used already. {WHERE}"
    )
    assert not await resources.redis.exists(resources.logins.key(tokens.family)), (
        "After a reuse the login's key should be gone from Redis."
    )


async def test_racing_refreshes_with_one_token_cannot_both_win(
    client, create_user, login, resources
):
    tokens = await login(await create_user())
    # Open the connections first, so that the racing requests all reach Redis at once (a
    # request that had to connect would arrive after the others had finished).
    await asyncio.gather(*(resources.redis.ping() for _ in range(8)))

    answers = await asyncio.gather(*(post_refresh(client, tokens.refresh_token) for _ in range(8)))

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses.count(200) == 1, (
        f"Of 8 concurrent refreshes with one refresh token, exactly one should get a new pair; "
        f"the answers were {statuses}. Reading the login's jti and then writing the new one are "
        f"two round trips that racing requests interleave: Redis can compare and swap in one "
        f"command. {WHERE}"
    )


async def test_an_ended_login_is_not_brought_back_by_a_refresh(
    client, create_user, login, resources
):
    user = await create_user()
    tokens = await login(user)
    await must_know_the_caller(client, tokens, user)
    await resources.redis.delete(resources.logins.key(tokens.family))  # as a logout would

    response = await post_refresh(client, tokens.refresh_token)

    assert response.status_code == 401, (
        f"The refresh token of an ended login should be refused with 401; it answered "
        f"{response.status_code}. {WHERE}"
    )
    assert not await resources.redis.exists(resources.logins.key(tokens.family)), (
        f"A refresh of an ended login must not write its key back: the login (and the access "
        f"token it was ended for) would live again. Redis can set a key only if it exists "
        f"already. {WHERE}"
    )
    assert (await client.get("/users/me", headers=tokens.headers)).status_code == 401


async def test_refreshing_in_a_loop_keeps_one_key_and_a_full_lifetime(
    client, create_user, login, resources, settings
):
    tokens = await login(await create_user())
    first = tokens_from(await post_refresh(client, tokens.refresh_token), "POST /auth/refresh")
    prefix = settings.redis_key_prefix
    keys_before = {key async for key in resources.redis.scan_iter(match=f"{prefix}*")}
    refresh_token = first.refresh_token
    await resources.redis.expire(resources.logins.key(tokens.family), 60)  # an old login

    for _ in range(5):
        refresh_token = tokens_from(
            await post_refresh(client, refresh_token), "POST /auth/refresh in a loop"
        ).refresh_token

    keys_after = {key async for key in resources.redis.scan_iter(match=f"{prefix}*")}
    new_keys = keys_after - keys_before
    assert not new_keys, (
        f"Refreshing should keep the login's one key and add none (a key per refresh grows "
        f"Redis without bound); new keys: {sorted(new_keys)}. {WHERE}"
    )
    ttl = await resources.redis.ttl(resources.logins.key(tokens.family))
    assert ttl > settings.refresh_token_ttl_seconds - 60, (
        f"A refresh gives the login a new refresh token's lifetime "
        f"({settings.refresh_token_ttl_seconds} s); its key's TTL is {ttl}. Set the expiry "
        f"in the same command. {WHERE}"
    )


async def test_a_refreshed_login_stays_where_a_password_change_finds_it(
    client, create_user, login, resources, settings
):
    """The login's entry in the user's list must live as long as its key: a login kept alive
    by refreshes that dropped out of the list would survive a password change."""
    user = await create_user()
    tokens = await login(user)
    listing = resources.logins._user_logins_key(user.id)
    # An old login, near the end of its first lifetime: its key and its listing both.
    await resources.redis.zadd(listing, {tokens.family: int(time.time()) + 60})
    await resources.redis.expire(listing, 60)
    await resources.redis.expire(resources.logins.key(tokens.family), 60)

    tokens_from(await post_refresh(client, tokens.refresh_token), "POST /auth/refresh")

    lifetime = settings.refresh_token_ttl_seconds
    score = await resources.redis.zscore(listing, tokens.family)
    listing_ttl = await resources.redis.ttl(listing)
    renewed = score is not None and score > time.time() + lifetime - 60
    renewed = renewed and listing_ttl > lifetime - 60
    assert renewed, (
        f"After a refresh the login lives another {lifetime} s, but its entry in the user's "
        f"list of logins was left to end with the first lifetime (score {score}, the list's "
        f"TTL {listing_ttl} s). Once it drops out, a password change (end_all) cannot find "
        f"the login, and a thief who keeps refreshing survives it. Renew the entry when the "
        f"swap succeeds, as start() does with _list(). {WHERE}"
    )


async def test_a_refresh_that_cannot_reach_redis_is_a_503(
    client, create_user, login, resources, monkeypatch
):
    tokens = await login(await create_user())
    dead = Redis.from_url(DEAD_REDIS, decode_responses=True)
    monkeypatch.setattr(resources.logins, "_redis", dead)

    try:
        response = await post_refresh(client, tokens.refresh_token)
    except Exception as error:
        pytest.fail(
            f"A refresh while Redis is down raised {type(error).__name__} ({error}), a 500. "
            f"Wrap the Redis call as the other methods of LoginRegistry do (fail closed). "
            f"{WHERE}"
        )
    finally:
        await dead.aclose()

    assert response.status_code == 503, (
        f"A refresh while Redis is down should answer 503 (try again shortly), never a new "
        f"pair nobody checked; it answered {response.status_code}. {WHERE}"
    )
