"""The route dependencies, named once, so a route's signature reads like its needs:
`session: SessionDep, user: CurrentUser`. Everything comes from `app.state`, filled by the
lifespan: nothing here creates a client.
"""

from typing import Annotated

from fastapi import Depends, Request
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.dependencies import get_access_claims, get_account_owner, get_current_user
from app.auth.passwords import PasswordHasher
from app.auth.tokens import TokenClaims
from app.config import Settings
from app.database import get_session
from app.users.cache import UserCache
from app.users.schemas import UserRead


# `async def` although they never await: FastAPI runs a plain `def` dependency in a thread.
async def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_redis(request: Request) -> Redis:
    return request.app.state.redis


async def get_user_cache(request: Request) -> UserCache:
    return request.app.state.user_cache


async def get_password_hasher(request: Request) -> PasswordHasher:
    return request.app.state.password_hasher


SessionDep = Annotated[AsyncSession, Depends(get_session)]
RedisDep = Annotated[Redis, Depends(get_redis)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
UserCacheDep = Annotated[UserCache, Depends(get_user_cache)]
PasswordHasherDep = Annotated[PasswordHasher, Depends(get_password_hasher)]
AccessClaims = Annotated[TokenClaims, Depends(get_access_claims)]
CurrentUser = Annotated[UserRead, Depends(get_current_user)]
AccountOwner = Annotated[UserRead, Depends(get_account_owner)]
