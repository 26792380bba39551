"""The route dependencies, named once, so a route's signature reads like its needs."""

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.database import get_session
from app.users.cache import UserCache


# `async def` although it never awaits: FastAPI runs a plain `def` dependency in a thread.
async def get_user_cache(request: Request) -> UserCache:
    return request.app.state.user_cache


SessionDep = Annotated[AsyncSession, Depends(get_session)]
UserCacheDep = Annotated[UserCache, Depends(get_user_cache)]
