"""The route dependencies, named once. A route's signature then reads like its needs:
`session: SessionDep, user: CurrentUser`.

Everything comes from `app.state`, filled by the lifespan: nothing here creates a client.
The getters are `async def` although they never await: FastAPI runs a plain `def`
dependency in a thread pool, a thread hop per request for a mere attribute read.
"""

from typing import Annotated

from fastapi import Depends, Request
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.dependencies import (
    Login,
    get_access_claims,
    get_admin_user,
    get_current_login,
    get_current_user,
)
from app.auth.passwords import PasswordHasher
from app.auth.tokens import TokenClaims
from app.config import Settings
from app.database import get_session
from app.users.cache import UserCache
from app.users.dependencies import get_requested_user_json
from app.users.schemas import UserRead


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
CurrentLogin = Annotated[Login, Depends(get_current_login)]
AdminUser = Annotated[UserRead, Depends(get_admin_user)]
# UserRead's JSON, ready to send (see users/router.py's read_user).
RequestedUserJson = Annotated[str, Depends(get_requested_user_json)]
