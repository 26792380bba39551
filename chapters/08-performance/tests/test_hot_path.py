"""Worked section performance.hot_path: a warm read of a user is ONE Redis round trip (the
login and both cached entries in one MGET), a hit is sent as stored, and entries are keyed by
the shape of the JSON they hold.

The chapter gives this code (app/users/dependencies.py, app/users/cache.py): these tests pass
before and after the exercises.
"""

import json

from app.users.cache import UserCache, entry_format
from app.users.schemas import UserRead


def cache_of(app) -> UserCache:
    resources = app.state.resources
    return UserCache(
        redis=resources.redis,
        engine=resources.read_engine,
        settings=resources.settings,
        flights=resources.flights,
    )


async def test_a_warm_read_is_one_redis_command_and_no_sql(
    app, client, create_user, login, query_counter, monkeypatch
):
    reader, target = await create_user(), await create_user()
    headers = (await login(reader)).headers
    assert (await client.get(f"/users/{target.id}", headers=headers)).status_code == 200
    redis = app.state.resources.redis
    commands: list[str] = []
    original = redis.execute_command

    async def recorded(*args, **options):
        commands.append(str(args[0]))
        return await original(*args, **options)

    monkeypatch.setattr(redis, "execute_command", recorded)
    query_counter.reset()

    response = await client.get(f"/users/{target.id}", headers=headers)

    assert response.status_code == 200
    assert commands == ["MGET"], f"a warm read should send one MGET to Redis; sent {commands}"
    assert query_counter.count == 0, f"a warm read sent SQL: {query_counter.statements}"


async def test_a_hit_is_sent_exactly_as_stored(app, client, create_user, login):
    user = await create_user()
    headers = (await login(user)).headers
    await client.get(f"/users/{user.id}", headers=headers)  # cached now
    key = cache_of(app).key(user.id)
    entry = json.loads(await app.state.resources.redis.get(key))
    # Same shape, another name and another layout: only an unparsed hit returns these bytes.
    stored = json.dumps({**entry, "full_name": "Served as stored"}, indent=1)
    await app.state.resources.redis.set(key, stored)

    response = await client.get(f"/users/{user.id}", headers=headers)

    assert response.content == stored.encode(), "the entry should be sent byte for byte"
    assert response.headers["content-type"] == "application/json"


async def test_an_ended_login_is_refused_even_with_every_entry_cached(client, create_user, login):
    user = await create_user()
    tokens = await login(user)
    assert (await client.get(f"/users/{user.id}", headers=tokens.headers)).status_code == 200

    logged_out = await client.post("/auth/logout", headers=tokens.headers)
    response = await client.get(f"/users/{user.id}", headers=tokens.headers)

    assert logged_out.status_code == 204, logged_out.text
    assert response.status_code == 401, "the login's key is in the same MGET and is gone"


async def test_entries_are_keyed_by_the_shape_of_user_read(app, create_user):
    class UserReadWithNickname(UserRead):
        nickname: str | None = None

    key = cache_of(app).key((await create_user()).id)

    assert f":user.{entry_format(UserRead)}:" in key, key
    assert entry_format(UserReadWithNickname) != entry_format(UserRead), (
        "a field added to UserRead must change the fingerprint, so old entries are not served"
    )
