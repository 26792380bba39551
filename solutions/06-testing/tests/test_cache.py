"""The user cache: fresh after every write, cheap when warm, under the prefix, with a TTL."""

import pytest

from app.resources import resources_of
from app.users.dependencies import get_user_cache

pytestmark = pytest.mark.exercise("testing.cache")


async def test_a_read_after_an_update_shows_the_new_values(client, create_user, login):
    """Read a user (the cache is warm now), change its full name (PATCH /users/me), read it
    again: the new name."""
    user = await create_user(full_name="Ada")
    tokens = await login(user)
    url = f"/users/{user.id}"
    await client.get(url, headers=tokens.headers)  # the cache is warm now

    await client.patch("/users/me", json={"full_name": "Countess"}, headers=tokens.headers)
    response = await client.get(url, headers=tokens.headers)

    assert response.json()["full_name"] == "Countess", "the cached copy outlived the update"


async def test_a_deleted_user_cannot_be_read_any_more(client, create_user, login):
    """Bob reads Ada (cached), Ada deletes her account, Bob reads Ada again: 404."""
    ada, bob = await create_user(), await create_user()
    ada_tokens, bob_tokens = await login(ada), await login(bob)
    await client.get(f"/users/{ada.id}", headers=bob_tokens.headers)  # cached

    deleted = await client.delete("/users/me", headers=ada_tokens.headers)
    response = await client.get(f"/users/{ada.id}", headers=bob_tokens.headers)

    assert deleted.is_success, deleted.text
    assert response.status_code == 404, "the cached copy outlived the delete"


async def test_a_warm_read_sends_no_sql(client, create_user, login, query_counter):
    """Read a user twice: the second read sends no SQL statement at all (query_counter)."""
    user = await create_user()
    tokens = await login(user)
    await client.get(f"/users/{user.id}", headers=tokens.headers)
    query_counter.reset()

    response = await client.get(f"/users/{user.id}", headers=tokens.headers)

    assert response.status_code == 200
    assert query_counter.statements == [], "a cached user should be served from Redis"


async def test_cached_users_live_under_the_configured_prefix(
    app, client, create_user, login, settings
):
    """After a read, the user is in Redis at f"{settings.redis_key_prefix}user:{user_id}"."""
    user = await create_user()
    tokens = await login(user)

    await client.get(f"/users/{user.id}", headers=tokens.headers)

    key = f"{settings.redis_key_prefix}user:{user.id}"
    assert await resources_of(app).redis.exists(key), f"no cached user at {key}"


async def test_cached_users_expire(app, client, create_user, login, settings):
    """After a read, the user's key has a TTL: more than 0 (-1 means never), and at most
    user_cache_ttl_seconds + user_cache_ttl_jitter_seconds."""
    user = await create_user()
    tokens = await login(user)

    await client.get(f"/users/{user.id}", headers=tokens.headers)

    ttl = await resources_of(app).redis.ttl(f"{settings.redis_key_prefix}user:{user.id}")
    longest = settings.user_cache_ttl_seconds + settings.user_cache_ttl_jitter_seconds
    assert 0 < ttl <= longest, f"the entry's TTL is {ttl} (-1: it never expires)"


# --8<-- [start:racing_read]
class ReadsAfterInvalidating:
    """The app's cache, plus a read right after every invalidation: the worst moment a
    concurrent request could choose, chosen on purpose."""

    def __init__(self, cache) -> None:
        self._cache = cache

    def __getattr__(self, name: str):
        return getattr(self._cache, name)

    async def invalidate(self, user_id) -> None:
        await self._cache.invalidate(user_id)
        await self._cache.get_user(user_id)


async def test_a_read_racing_an_update_cannot_cache_the_old_values(
    app, client, create_user, login, override_dependency
):
    """An update must drop the cached copy after its commit, not before: a read in between
    would cache the old row again.

    That moment is too short to hit by luck, so choose it: override get_user_cache with a
    wrapper of the app's own cache whose invalidate() invalidates, then reads the user at
    once. Change the full name, read the user: the new name."""

    async def racing_cache():
        return ReadsAfterInvalidating(await get_user_cache(resources_of(app)))

    override_dependency(get_user_cache, racing_cache)
    user = await create_user(full_name="Ada")
    tokens = await login(user)

    await client.patch("/users/me", json={"full_name": "Countess"}, headers=tokens.headers)
    response = await client.get(f"/users/{user.id}", headers=tokens.headers)

    assert response.json()["full_name"] == "Countess", "a read before the commit cached old data"


# --8<-- [end:racing_read]
