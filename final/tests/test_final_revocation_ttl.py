"""Revocation marks live exactly as long as what they revoke could still be used.

A token issued a while ago has less life left than its full lifetime: its marks must expire
with it, not a full lifetime later (Redis would fill with dead entries), and never before it
(a revoked token would work again).
"""

import time
from uuid import uuid4

import pytest

from app.auth import tokens as token_module
from app.auth.revocation import revocation_keys
from app.auth.tokens import IssuedToken, issue_token
from app.config import Settings

# Redis rounds a TTL down to whole seconds and a test takes a moment: this much slack only.
SLACK_SECONDS = 5


@pytest.fixture
def old_token(monkeypatch, app):
    """Factory: `old_token(user, "access", seconds_ago=600, family=...)`."""
    settings: Settings = app.state.settings

    def make(user, token_type: str, *, seconds_ago: int, family: str) -> IssuedToken:
        past = time.time() - seconds_ago
        with monkeypatch.context() as clock:
            clock.setattr(token_module.time, "time", lambda: past)
            return issue_token(
                user_id=user.id, token_type=token_type, family=family, settings=settings
            )

    return make


def bearer(token: IssuedToken) -> dict[str, str]:
    return {"Authorization": f"Bearer {token.token}"}


async def test_a_logout_revokes_an_old_token_for_its_remaining_life_only(
    client, create_user, app, old_token
):
    settings: Settings = app.state.settings
    user = await create_user()
    family = uuid4().hex
    access = old_token(user, "access", seconds_ago=600, family=family)
    remaining = access.claims.exp - int(time.time())
    assert remaining < settings.access_token_ttl_seconds - 500, "the control: an old token"
    assert (await client.get("/users/me", headers=bearer(access))).status_code == 200

    response = await client.post("/auth/logout", headers=bearer(access))
    jti_key, _ = revocation_keys(settings, access.claims)
    ttl = await app.state.redis.ttl(jti_key)

    assert response.status_code == 204, response.text
    assert remaining - SLACK_SECONDS <= ttl <= remaining, (
        f"the logout mark of a token with {remaining} s left lives {ttl} s; it should expire "
        "with the token (claims.seconds_left() in app/auth/revocation.py), not a full "
        f"lifetime ({settings.access_token_ttl_seconds} s) later"
    )


async def test_a_logout_revokes_the_family_as_long_as_its_newest_refresh_token_lives(
    client, create_user, login, app
):
    settings: Settings = app.state.settings
    tokens = await login(await create_user())
    refresh = token_module.decode_token(
        tokens.refresh_token, expected_type="refresh", settings=settings
    )
    refresh_left = refresh.exp - int(time.time())

    await client.post("/auth/logout", headers=tokens.headers)
    _, family_key = revocation_keys(settings, refresh)
    ttl = await app.state.redis.ttl(family_key)
    reuse = await client.post("/auth/refresh", json={"refresh_token": tokens.refresh_token})

    assert reuse.status_code == 401, "the login's refresh token dies with the logout"
    assert refresh_left - SLACK_SECONDS <= ttl <= settings.refresh_token_ttl_seconds, (
        f"the family mark lives {ttl} s but the login's refresh token has {refresh_left} s "
        "left: the mark must outlive it, or the refresh token works again once it expires"
    )


async def test_a_used_refresh_token_is_remembered_for_its_remaining_life_only(
    client, create_user, app, old_token
):
    settings: Settings = app.state.settings
    user = await create_user()
    day = 24 * 3600
    refresh = old_token(user, "refresh", seconds_ago=day, family=uuid4().hex)
    remaining = refresh.claims.exp - int(time.time())

    response = await client.post("/auth/refresh", json={"refresh_token": refresh.token})
    used_key = f"{settings.redis_key_prefix}refresh:used:{refresh.claims.jti}"
    ttl = await app.state.redis.ttl(used_key)

    assert response.status_code == 200, response.text
    assert remaining - SLACK_SECONDS <= ttl <= remaining, (
        f"a used refresh token with {remaining} s left is remembered for {ttl} s; it should be "
        "remembered until it expires (claims.seconds_left()), not a full refresh lifetime "
        f"({settings.refresh_token_ttl_seconds} s)"
    )


async def test_a_reused_refresh_token_revokes_its_family_past_the_rotated_tokens_life(
    client, create_user, app, old_token
):
    settings: Settings = app.state.settings
    user = await create_user()
    family = uuid4().hex
    stolen = old_token(user, "refresh", seconds_ago=24 * 3600, family=family)
    rotated = (await client.post("/auth/refresh", json={"refresh_token": stolen.token})).json()
    rotated_claims = token_module.decode_token(
        rotated["refresh_token"], expected_type="refresh", settings=settings
    )
    rotated_left = rotated_claims.exp - int(time.time())

    reuse = await client.post("/auth/refresh", json={"refresh_token": stolen.token})
    _, family_key = revocation_keys(settings, rotated_claims)
    ttl = await app.state.redis.ttl(family_key)

    assert reuse.status_code == 401
    assert reuse.json()["code"] == "refresh_token_reused"
    assert rotated_left - SLACK_SECONDS <= ttl <= settings.refresh_token_ttl_seconds, (
        f"the family mark lives {ttl} s, but the refresh token rotated just now has "
        f"{rotated_left} s left: the mark must outlive every token of the family"
    )
