"""Helpers the chapter's tests share: is the app's Redis client the one its own lifespan made?"""

import weakref
from urllib.parse import urlsplit

from fastapi import FastAPI
from redis.asyncio import Redis

from app.config import Settings

# Each Redis client an app started with, and that app: a client found again in another app is
# one object shared by both, made at import rather than by each app's lifespan.
_APP_OF_CLIENT: "weakref.WeakKeyDictionary[Redis, weakref.ref[FastAPI]]" = (
    weakref.WeakKeyDictionary()
)

MAKE_IT_IN_THE_LIFESPAN = (
    "make the client inside the lifespan with create_redis(settings), not at import, and take "
    "its URL and timeouts from those settings"
)


def why_not_the_apps_own_client(app: FastAPI) -> str | None:
    """Why the running app's Redis client is not one its lifespan made from the app's own
    settings (a client made at import, from the environment, shared by every app), or None.
    A client that is not a Redis client yet, or has no timeouts yet, is left to cache.client's
    other checks."""
    client = app.state.resources.redis
    if not isinstance(client, Redis):
        return None
    settings: Settings = app.state.settings
    kwargs = client.connection_pool.connection_kwargs
    url = urlsplit(settings.redis_url)
    talks_to = (kwargs.get("host"), kwargs.get("port"))
    if "host" in kwargs and talks_to != (url.hostname, url.port or 6379):
        return f"it talks to {talks_to[0]}:{talks_to[1]}, not to settings.redis_url ({url.netloc})"
    timeout = kwargs.get("socket_timeout")
    if timeout is not None and timeout != settings.redis_socket_timeout_seconds:
        return (
            f"its socket timeout is {timeout} s where the app's settings say "
            f"{settings.redis_socket_timeout_seconds} s"
        )
    first_app = _APP_OF_CLIENT.setdefault(client, weakref.ref(app))()
    if first_app is not app:
        return "it is the same client object as an earlier app's"
    return None


def require_the_apps_own_client(app: FastAPI) -> None:
    """Every exercise after cache.client needs the app's own client: say so, briefly, and
    leave the explanation to cache.client's tests."""
    why = why_not_the_apps_own_client(app)
    assert why is None, (
        "The app's Redis client is not one its lifespan made from the test's settings: fix "
        "exercise cache.client first (see there); until then this test cannot tell anything "
        "about the cache."
    )
