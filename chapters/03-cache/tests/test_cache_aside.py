"""Exercise cache.aside: a user read twice costs the database one query; the entry lives
under the test's prefix with a TTL and jitter; an unknown id caches nothing."""

from uuid import uuid4

import pytest

pytestmark = pytest.mark.exercise("cache.aside")

WHERE = "(UserCache in app/users/cache.py, exercise cache.aside)"


async def read(client, user_id) -> dict:
    response = await client.get(f"/users/{user_id}")
    assert response.status_code == 200, (
        f"GET /users/{{id}} should answer 200 for a user that exists; it answered "
        f"{response.status_code} {response.text[:200]}."
    )
    return response.json()


async def test_the_second_read_sends_no_sql(client, create_user, query_counter):
    user_id = await create_user()
    query_counter.reset()

    first = await read(client, user_id)
    queries_for_first = query_counter.count
    query_counter.reset()
    second = await read(client, user_id)

    assert queries_for_first >= 1, "The first read is a miss: it should load from PostgreSQL."
    assert query_counter.count == 0, (
        f"The second read of the same user should come from Redis and send no SQL; it sent "
        f"{query_counter.count}, starting {query_counter.statements[0][:40]!r}. In get_user, "
        f"GET self.key(user_id) first, and in _write, SET it after the load {WHERE}."
    )
    assert second == first, "The cached user should be answered exactly as the loaded one."


async def test_the_entry_lives_under_the_prefix_with_a_ttl(app, client, create_user, redis_client):
    settings = app.state.settings
    user_id = await create_user()

    body = await read(client, user_id)
    key = app.state.user_cache.key(user_id)
    stored, ttl = await redis_client.get(key), await redis_client.ttl(key)

    assert key.startswith(settings.redis_key_prefix)
    assert stored is not None, (
        f"After a read, Redis should hold the user under {key!r} (UserCache.key); it holds "
        f"nothing there. SET it in _write {WHERE}."
    )
    assert ttl > 0, (
        f"The entry should expire (a TTL), or a user changed behind the service's back would "
        f"be served forever; its TTL is {ttl}. Pass ex=... to SET {WHERE}."
    )
    shortest = settings.user_cache_ttl_seconds - 2  # a second or two may pass meanwhile
    longest = settings.user_cache_ttl_seconds + settings.user_cache_ttl_jitter_seconds
    assert shortest <= ttl <= longest, (
        f"The TTL should be user_cache_ttl_seconds plus 0..user_cache_ttl_jitter_seconds "
        f"({settings.user_cache_ttl_seconds}..{longest} s); it is {ttl} s {WHERE}."
    )
    assert str(user_id) in stored, (
        f"The value should be the user as JSON (user.model_dump_json()); it is "
        f"{stored[:80]!r} {WHERE}."
    )
    assert body == await read(client, user_id), (
        f"A read from the cache should answer exactly what the first read did; read the JSON "
        f"back with UserRead.model_validate_json {WHERE}."
    )


@pytest.mark.parametrize(
    "settings",
    [{"user_cache_ttl_seconds": 100, "user_cache_ttl_jitter_seconds": 100_000}],
    indirect=True,
    ids=["ttl-100-jitter-100000"],
)
async def test_jitter_spreads_the_expiries(app, client, create_user, redis_client):
    user_ids = [await create_user() for _ in range(8)]

    for user_id in user_ids:
        await read(client, user_id)
    ttls = [await redis_client.ttl(app.state.user_cache.key(user_id)) for user_id in user_ids]

    assert all(98 <= ttl <= 100_100 for ttl in ttls), (
        f"With USER_CACHE_TTL_SECONDS=100 and USER_CACHE_TTL_JITTER_SECONDS=100000 every TTL "
        f"should be between 100 and 100100 s; they are {ttls} {WHERE}."
    )
    assert max(ttls) - min(ttls) > 2, (
        f"Eight users cached together get TTLs {ttls}: they would all expire, and all miss, "
        f"together. Add random.randint(0, user_cache_ttl_jitter_seconds) to each TTL {WHERE}."
    )


async def test_an_unknown_user_is_404_and_caches_nothing(app, client, create_user, redis_client):
    known = await create_user()
    await read(client, known)
    assert await redis_client.exists(app.state.user_cache.key(known)), (
        f"A read of a user that exists should cache it first {WHERE}."
    )
    unknown = uuid4()

    response = await client.get(f"/users/{unknown}")

    assert response.status_code == 404, (
        f"An unknown id should still answer 404; it answered {response.status_code}."
    )
    assert not await redis_client.exists(app.state.user_cache.key(unknown)), (
        "Nothing should be cached for a user that does not exist."
    )
