"""What the lifespan opens, in one typed place.

`create_app` builds no connection; the lifespan (app/main.py) makes one `Resources` per
process when the server starts and closes it when the server stops. Everything else reaches
these objects through `get_resources` (app/dependencies.py names the common ones), never by
reading `app.state` itself.
"""

from dataclasses import dataclass

from fastapi import FastAPI, Request
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.config import Settings
from app.rate_limit import RateLimiter
from app.security.logins import LoginRegistry
from app.security.passwords import PasswordHasher
from app.single_flight import SingleFlight


@dataclass(frozen=True)
class Resources:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Redis
    flights: SingleFlight  # the process's in-flight loads, shared by every request
    password_hasher: PasswordHasher
    rate_limiter: RateLimiter
    logins: LoginRegistry


def resources_of(app: FastAPI) -> Resources:
    """The running app's resources (the lifespan must have started)."""
    resources: Resources = app.state.resources
    return resources


async def get_resources(request: Request) -> Resources:
    # `async def` although it never awaits: FastAPI runs a plain `def` dependency in a
    # thread pool, a thread hop per request for an attribute read.
    return resources_of(request.app)
