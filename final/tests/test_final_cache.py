"""The user cache: cache-aside with TTL and jitter, invalidation, single flight, fail open."""

import asyncio
from uuid import uuid4

from final_helpers import client_for, make_settings, override_user_cache, running_app, user_cache_of
from redis.asyncio import Redis

from app.users.cache import UserCache, entry_format
from app.users.models import Role, User
from app.users.schemas import UserRead

DEAD_REDIS_URL = "redis://127.0.0.1:1/0"


async def _warm_reader(client, create_user, login):
    """A logged-in reader whose own user entry is cached, so only the target's reads count."""
    reader = await create_user()
    tokens = await login(reader)
    assert (await client.get("/users/me", headers=tokens.headers)).status_code == 200
    return tokens


async def test_the_second_read_comes_from_redis(client, create_user, login, query_counter):
    tokens = await _warm_reader(client, create_user, login)
    target = await create_user()
    query_counter.reset()

    first = await client.get(f"/users/{target.id}", headers=tokens.headers)
    queries_after_first = query_counter.count
    second = await client.get(f"/users/{target.id}", headers=tokens.headers)

    assert first.json() == second.json()
    assert queries_after_first == 1
    assert query_counter.count == 1, "the second read should not touch PostgreSQL"


async def test_entries_expire_after_the_ttl_plus_jitter(client, create_user, login, app):
    settings = app.state.settings
    tokens = await _warm_reader(client, create_user, login)
    target = await create_user()

    await client.get(f"/users/{target.id}", headers=tokens.headers)

    ttl = await app.state.resources.redis.ttl(user_cache_of(app).key(target.id))
    longest = settings.user_cache_ttl_seconds + settings.user_cache_ttl_jitter_seconds
    assert settings.user_cache_ttl_seconds - 2 <= ttl <= longest


async def test_jitter_spreads_the_expiries(app, create_user):
    cache: UserCache = user_cache_of(app)
    users = [await create_user() for _ in range(12)]

    for user in users:
        await cache.get_user(user.id)
    ttls = {await app.state.resources.redis.ttl(cache.key(user.id)) for user in users}

    assert len(ttls) > 1, "twelve entries written together should not all expire together"


async def test_the_app_writes_its_keys_under_the_configured_prefix(client, create_user, login, app):
    await _warm_reader(client, create_user, login)
    redis: Redis = app.state.resources.redis
    prefix = app.state.settings.redis_key_prefix

    ours = [key async for key in redis.scan_iter(match=f"{prefix}*", count=1000)]

    # A user entry's kind carries its format's fingerprint: `user.3f2a9c1b`.
    kinds = {key.removeprefix(prefix).split(":")[0].split(".")[0] for key in ours}
    assert kinds >= {"user", "login", "user-logins", "ratelimit"}, kinds


async def test_a_write_invalidates_the_cached_user(client, create_user, login, app):
    user = await create_user(full_name="Before")
    tokens = await login(user)
    await client.get("/users/me", headers=tokens.headers)  # cached now
    key = user_cache_of(app).key(user.id)
    assert await app.state.resources.redis.exists(key)

    await client.patch("/users/me", json={"full_name": "After"}, headers=tokens.headers)
    dropped = not await app.state.resources.redis.exists(key)
    response = await client.get(f"/users/{user.id}", headers=tokens.headers)

    assert dropped, "PATCH should delete the cached entry"
    assert response.json()["full_name"] == "After"


async def test_an_admin_delete_invalidates_the_cached_user(client, create_user, login, app):
    admin = await create_user(role=Role.ADMIN)
    tokens = await login(admin)
    target = await create_user()
    await client.get(f"/users/{target.id}", headers=tokens.headers)

    await client.delete(f"/users/{target.id}", headers=tokens.headers)
    response = await client.get(f"/users/{target.id}", headers=tokens.headers)

    assert response.status_code == 404, "a deleted user must not be served from the cache"


async def test_fifty_concurrent_misses_cost_one_query(client, create_user, login, query_counter):
    tokens = await _warm_reader(client, create_user, login)
    target = await create_user()
    query_counter.reset()

    responses = await asyncio.gather(
        *(client.get(f"/users/{target.id}", headers=tokens.headers) for _ in range(50))
    )

    assert all(response.status_code == 200 for response in responses)
    assert query_counter.count == 1, query_counter.statements


async def test_cache_off_reads_the_database_every_time(
    database_url, redis_url, redis_namespace, database_schema
):
    settings = make_settings(database_url, redis_url, redis_namespace, cache_enabled=False)
    async with running_app(settings) as app:
        async with app.state.resources.sessionmaker() as session:
            user = User(email="x@example.com", hashed_password="unused")
            session.add(user)
            await session.commit()
        cache: UserCache = user_cache_of(app)

        await cache.get_user(user.id)
        cached = await app.state.resources.redis.exists(cache.key(user.id))

    assert not cached, "CACHE_ENABLED=false must write nothing to Redis"


async def test_reads_fail_open_when_the_cache_redis_is_down(client, create_user, login, app):
    tokens = await _warm_reader(client, create_user, login)
    target = await create_user(full_name="Still here")
    dead = Redis.from_url(DEAD_REDIS_URL, socket_connect_timeout=0.2, socket_timeout=0.2)
    # Only the cache loses Redis here; the revocation check keeps it (it fails closed).
    override_user_cache(app, redis=dead)
    try:
        response = await client.get(f"/users/{target.id}", headers=tokens.headers)
    finally:
        await dead.aclose()

    assert response.status_code == 200
    assert response.json()["full_name"] == "Still here"


async def test_with_redis_down_the_cache_serves_from_postgres(
    database_url, redis_namespace, database_schema
):
    settings = make_settings(database_url, DEAD_REDIS_URL, redis_namespace)
    async with running_app(settings) as app, client_for(app) as client:
        created = await client.post(
            "/users", json={"email": "up@example.com", "password": "password123"}
        )
        user = await user_cache_of(app).get_user(created.json()["id"])

    assert created.status_code == 201, "registration needs PostgreSQL only"
    assert user.email == "up@example.com"


async def test_a_cached_read_sends_what_fastapi_would_serialize(client, create_user, login):
    tokens = await login(await create_user(role=Role.ADMIN))  # admins read users whole
    target = await create_user()
    target_tokens = await login(target)

    from_database = await client.get(f"/users/{target.id}", headers=tokens.headers)
    from_cache = await client.get(f"/users/{target.id}", headers=tokens.headers)
    serialized_by_fastapi = await client.get("/users/me", headers=target_tokens.headers)

    assert from_cache.status_code == from_database.status_code == 200
    assert from_cache.headers["content-type"] == "application/json"
    assert from_cache.content == from_database.content == serialized_by_fastapi.content, (
        "a cache hit is sent as stored: the entry must be exactly the response's JSON"
    )


async def test_a_new_shape_of_user_reads_new_keys(app):
    """A hit is sent as stored: entries written in another shape of UserRead must not be read."""

    class UserReadWithNickname(UserRead):
        nickname: str | None = None

    key = user_cache_of(app).key(uuid4())

    assert f":user.{entry_format(UserRead)}:" in key
    assert f":user.{entry_format(UserReadWithNickname)}:" not in key
