"""Who is calling, and what the users routes need.

The caller's bearer token is verified (CPU only), then its login and the cached users the
route reads come back in ONE Redis round trip (MGET): the whole Redis cost of a warm read.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, cast
from uuid import UUID

from fastapi import Depends, Request, Response
from fastapi.security import OAuth2PasswordBearer
from redis.exceptions import RedisError

from app.dependencies import ResourcesDep
from app.rate_limit import client_ip
from app.security.exceptions import (
    InvalidToken,
    LoginEnded,
    LoginStoreUnavailable,
    NotAuthenticated,
)
from app.security.tokens import TokenClaims, decode_token
from app.users.cache import UserCache
from app.users.exceptions import AdminRequired, UserNotFound
from app.users.models import Role
from app.users.schemas import UserPublic, UserRead

logger = logging.getLogger(__name__)

# auto_error=False: a missing token becomes our own 401 problem, not FastAPI's default.
bearer_token = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)
BearerToken = Annotated[str | None, Depends(bearer_token)]


async def get_user_cache(resources: ResourcesDep) -> UserCache:
    return UserCache(
        redis=resources.redis,
        engine=resources.read_engine,
        settings=resources.settings,
        flights=resources.flights,
    )


UserCacheDep = Annotated[UserCache, Depends(get_user_cache)]


@dataclass(frozen=True)
class Login:
    """The caller and the claims of the token it called with (`family` names its login)."""

    user: UserRead
    claims: TokenClaims


async def _check_token_and_fetch(
    resources: ResourcesDep, cache: UserCache, token: str | None, also_read: Sequence[UUID]
) -> tuple[TokenClaims, list[str | None]]:
    """The verified claims, after checking in ONE MGET that their login is alive; with the
    cached entries of the caller and of `also_read`.

    Raises 401 for a bad token or an ended login, 503 when Redis cannot say (fail closed).
    """
    if token is None:
        raise NotAuthenticated()
    claims = decode_token(token, expected_type="access", settings=resources.settings)
    keys = [resources.logins.key(claims.family), cache.key(claims.sub)]
    keys += [cache.key(user_id) for user_id in also_read]
    try:
        found = cast(list[str | None], await resources.redis.mget(keys))
        login, *entries = found
    except RedisError:
        logger.error("the login store is unavailable: refusing the token (fail closed)")
        raise LoginStoreUnavailable() from None
    if login is None:
        raise LoginEnded()
    return claims, entries


async def get_current_login(
    resources: ResourcesDep, cache: UserCacheDep, token: BearerToken
) -> Login:
    claims, (caller_entry,) = await _check_token_and_fetch(resources, cache, token, ())
    try:
        user = await cache.resolve(claims.sub, caller_entry)
    except UserNotFound:
        raise InvalidToken("The token's user no longer exists.") from None
    return Login(user=user, claims=claims)


CurrentLogin = Annotated[Login, Depends(get_current_login)]


async def get_current_user(login: CurrentLogin) -> UserRead:
    return login.user


CurrentUser = Annotated[UserRead, Depends(get_current_user)]


async def get_admin_user(user: CurrentUser) -> UserRead:
    if user.role != Role.ADMIN:
        raise AdminRequired()
    return user


AdminUser = Annotated[UserRead, Depends(get_admin_user)]


async def get_requested_user_json(
    user_id: UUID, resources: ResourcesDep, cache: UserCacheDep, token: BearerToken
) -> str:
    """The JSON of the user named in the path, as the caller may see it: whole for itself and
    for admins (a cache hit is sent as stored), public fields for anyone else. UserNotFound
    (404) when there is no such user. Token, login and both users in ONE Redis round trip."""
    claims, (caller_entry, user_entry) = await _check_token_and_fetch(
        resources, cache, token, (user_id,)
    )
    try:
        caller = await cache.resolve(claims.sub, caller_entry)
    except UserNotFound:
        raise InvalidToken("The token's user no longer exists.") from None
    user_json = await cache.resolve_json(user_id, user_entry)
    if caller.id == user_id or caller.role == Role.ADMIN:
        return user_json
    return UserPublic.model_validate_json(user_json).model_dump_json()


RequestedUserJson = Annotated[str, Depends(get_requested_user_json)]


async def limit_registrations(
    request: Request, response: Response, resources: ResourcesDep
) -> None:
    """Per client IP: each account costs a password hash, so a flood of them is a CPU attack."""
    settings = resources.settings
    await resources.rate_limiter.enforce(
        response,
        "registrations",
        client_ip(request),
        limit=settings.registration_rate_limit,
        window_seconds=settings.registration_rate_limit_window_seconds,
    )


async def limit_writes(response: Response, resources: ResourcesDep, user: CurrentUser) -> None:
    """Per user: one account cannot flood the database with writes."""
    settings = resources.settings
    await resources.rate_limiter.enforce(
        response,
        "writes",
        str(user.id),
        limit=settings.write_rate_limit,
        window_seconds=settings.write_rate_limit_window_seconds,
    )
