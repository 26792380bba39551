"""The shared route dependencies, named once: a route's signature reads like its needs
(`session: SessionDep, logins: LoginsDep`). The domains name their own (users/dependencies.py).
"""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.rate_limit import RateLimiter
from app.resources import Resources, get_resources
from app.security.logins import LoginRegistry
from app.security.passwords import PasswordHasher

ResourcesDep = Annotated[Resources, Depends(get_resources)]


async def get_settings(resources: ResourcesDep) -> Settings:
    return resources.settings


async def get_session(resources: ResourcesDep) -> AsyncIterator[AsyncSession]:
    """One session per request, closed (and its connection returned) when the request ends."""
    async with resources.sessionmaker() as session:
        yield session


async def get_password_hasher(resources: ResourcesDep) -> PasswordHasher:
    return resources.password_hasher


async def get_rate_limiter(resources: ResourcesDep) -> RateLimiter:
    return resources.rate_limiter


async def get_logins(resources: ResourcesDep) -> LoginRegistry:
    return resources.logins


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
PasswordHasherDep = Annotated[PasswordHasher, Depends(get_password_hasher)]
RateLimiterDep = Annotated[RateLimiter, Depends(get_rate_limiter)]
LoginsDep = Annotated[LoginRegistry, Depends(get_logins)]
