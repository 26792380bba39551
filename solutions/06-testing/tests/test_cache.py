"""The user cache: fresh after every write, cheap when warm, under the prefix, with a TTL."""

import pytest

from app.dependencies import get_user_cache

pytestmark = pytest.mark.exercise("testing.cache")


async def test_a_read_after_an_update_shows_the_new_values(client, create_user, login):
    account = await create_user(full_name="Ada")
    tokens = await login(account)
    url = f"/users/{account.id}"
    await client.get(url, headers=tokens.headers)  # the cache is warm now

    await client.patch(url, json={"full_name": "Countess"}, headers=tokens.headers)
    response = await client.get(url, headers=tokens.headers)

    assert response.json()["full_name"] == "Countess", "the cached copy outlived the update"


async def test_a_deleted_user_cannot_be_read_any_more(client, create_user, login):
    ada, bob = await create_user(), await create_user()
    ada_tokens, bob_tokens = await login(ada), await login(bob)
    await client.get(f"/users/{ada.id}", headers=bob_tokens.headers)  # cached

    await client.delete(f"/users/{ada.id}", headers=ada_tokens.headers)
    response = await client.get(f"/users/{ada.id}", headers=bob_tokens.headers)

    assert response.status_code == 404, "the cached copy outlived the delete"


async def test_a_warm_read_sends_no_sql(client, create_user, login, query_counter):
    account = await create_user()
    tokens = await login(account)
    await client.get(f"/users/{account.id}", headers=tokens.headers)
    query_counter.reset()

    response = await client.get(f"/users/{account.id}", headers=tokens.headers)

    assert response.status_code == 200
    assert query_counter.statements == [], "a cached user should be served from Redis"


async def test_cached_users_live_under_the_configured_prefix(
    app, client, create_user, login, settings
):
    account = await create_user()
    tokens = await login(account)

    await client.get(f"/users/{account.id}", headers=tokens.headers)

    key = f"{settings.redis_key_prefix}user:{account.id}"
    assert await app.state.redis.exists(key), f"no cached user at {key}"


async def test_cached_users_expire(app, client, create_user, login, settings):
    account = await create_user()
    tokens = await login(account)

    await client.get(f"/users/{account.id}", headers=tokens.headers)

    ttl = await app.state.redis.ttl(f"{settings.redis_key_prefix}user:{account.id}")
    longest = settings.user_cache_ttl_seconds + settings.user_cache_ttl_jitter_seconds
    assert 0 < ttl <= longest, f"the entry's TTL is {ttl} (-1: it never expires)"


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
    racing_cache = ReadsAfterInvalidating(app.state.user_cache)
    override_dependency(get_user_cache, lambda: racing_cache)
    account = await create_user(full_name="Ada")
    tokens = await login(account)
    url = f"/users/{account.id}"

    await client.patch(url, json={"full_name": "Countess"}, headers=tokens.headers)
    response = await client.get(url, headers=tokens.headers)

    assert response.json()["full_name"] == "Countess", "a read before the commit cached old data"
