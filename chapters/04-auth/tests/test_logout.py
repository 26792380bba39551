"""Exercise auth.logout: POST /auth/logout revokes the access token and the refresh token by
jti in Redis, each for as long as it could still be used."""

import pytest
from auth_helpers import log_in, register, unverified_claims

pytestmark = pytest.mark.exercise("auth.logout")

WHERE = (
    "Revoke both tokens in the logout route (app/auth/router.py), and refuse revoked access "
    "tokens in get_access_claims (app/auth/dependencies.py) with ensure_not_revoked "
    "(app/auth/revocation.py) (exercise auth.logout)."
)


async def log_out(client, tokens):
    return await client.post(
        "/auth/logout", json={"refresh_token": tokens.refresh_token}, headers=tokens.headers
    )


async def revocation_ttl(app, settings, token: str, *, milliseconds: bool = False) -> int:
    """The TTL of the one key under the test's prefix that names the token's jti."""
    jti = unverified_claims(token)["jti"]
    pattern = f"{settings.redis_key_prefix}*{jti}*"
    keys = [key async for key in app.state.redis.scan_iter(match=pattern)]
    assert len(keys) == 1, (
        f"After logout, Redis should hold one key naming the token's jti under "
        f"settings.redis_key_prefix; found {keys}. {WHERE}"
    )
    return await (app.state.redis.pttl if milliseconds else app.state.redis.ttl)(keys[0])


async def test_after_logout_both_tokens_are_refused(client, create_user, login):
    tokens = await login(await create_user())
    assert (await client.get("/users/me", headers=tokens.headers)).status_code == 200, (
        "GET /users/me should work before logging out (exercise auth.current_user)."
    )

    response = await log_out(client, tokens)
    me = await client.get("/users/me", headers=tokens.headers)
    refreshed = await client.post("/auth/refresh", json={"refresh_token": tokens.refresh_token})

    assert response.status_code == 204, f"POST /auth/logout should answer 204: {response.text}"
    assert me.status_code == 401, (
        f"After logout the access token should be refused (401); GET /users/me answered "
        f"{me.status_code}. {WHERE}"
    )
    assert refreshed.status_code == 401, (
        f"After logout the refresh token should be refused (401); POST /auth/refresh "
        f"answered {refreshed.status_code}. Revoke it in the logout route too. {WHERE}"
    )


async def test_logout_refuses_a_body_that_is_not_a_refresh_token(client, create_user, login):
    tokens = await login(await create_user())

    response = await client.post(
        "/auth/logout", json={"refresh_token": tokens.access_token}, headers=tokens.headers
    )

    assert response.status_code == 401, (
        f"POST /auth/logout whose refresh_token is an access token should answer 401; it "
        f"answered {response.status_code}. Decode it with expected_type='refresh' first. {WHERE}"
    )
    still = await client.get("/users/me", headers=tokens.headers)
    assert still.status_code == 200, "A refused logout should revoke nothing: decode, then revoke."


async def test_a_revocation_lives_as_long_as_the_token_would(client, create_user, login, app):
    settings = app.state.settings
    tokens = await login(await create_user())

    await log_out(client, tokens)

    for token, lifetime, name in (
        (tokens.access_token, settings.access_token_ttl_seconds, "access"),
        (tokens.refresh_token, settings.refresh_token_ttl_seconds, "refresh"),
    ):
        ttl = await revocation_ttl(app, settings, token)
        assert lifetime - 5 <= ttl <= lifetime, (
            f"The {name} token's revocation should live as long as the token could still be "
            f"used (about {lifetime} s, settings.{name}_token_ttl_seconds), then go; its TTL "
            f"is {ttl} (-1: forever). Pass ex=claims.seconds_left() to the SET."
        )


async def test_the_mark_of_a_short_lived_token_goes_with_it(app_with):
    async with app_with(access_token_ttl_seconds=30) as (app, client):
        tokens = await log_in(client, await register(client))

        await log_out(client, tokens)

        pttl = await revocation_ttl(app, app.state.settings, tokens.access_token, milliseconds=True)
    assert 0 < pttl <= 30_000, (
        f"With access tokens that live 30 s, the revocation should expire within 30 s, when "
        f"the token would have; its PTTL is {pttl} ms. Take the TTL from the token "
        f"(claims.seconds_left()), not from a fixed number."
    )
