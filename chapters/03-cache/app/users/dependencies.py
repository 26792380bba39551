"""What the users routes need."""

from typing import Annotated

from fastapi import Depends

from app.dependencies import ResourcesDep
from app.users.cache import UserCache


async def get_user_cache(resources: ResourcesDep) -> UserCache:
    return UserCache(
        redis=resources.redis,
        sessionmaker=resources.sessionmaker,
        settings=resources.settings,
        flights=resources.flights,
    )


UserCacheDep = Annotated[UserCache, Depends(get_user_cache)]
