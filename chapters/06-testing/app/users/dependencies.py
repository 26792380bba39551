"""Who is calling, and what the users routes need."""

from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request, Response
from fastapi.security import OAuth2PasswordBearer

from app.dependencies import ResourcesDep
from app.rate_limit import client_ip
from app.security.exceptions import InvalidToken, LoginEnded, NotAuthenticated
from app.security.tokens import TokenClaims, decode_token
from app.users.cache import UserCache
from app.users.exceptions import AdminRequired, UserNotFound
from app.users.models import Role
from app.users.schemas import UserPublic, UserRead

# auto_error=False: a missing token becomes our own 401 problem, not FastAPI's default.
bearer_token = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)
BearerToken = Annotated[str | None, Depends(bearer_token)]


async def get_user_cache(resources: ResourcesDep) -> UserCache:
    return UserCache(
        redis=resources.redis,
        sessionmaker=resources.sessionmaker,
        settings=resources.settings,
        flights=resources.flights,
    )


UserCacheDep = Annotated[UserCache, Depends(get_user_cache)]


@dataclass(frozen=True)
class Login:
    """The caller and the claims of the token it called with (`family` names its login)."""

    user: UserRead
    claims: TokenClaims


async def get_current_login(
    resources: ResourcesDep, cache: UserCacheDep, token: BearerToken
) -> Login:
    """The caller: a valid access token whose login is alive, and its user, who must exist."""
    if token is None:
        raise NotAuthenticated()
    claims = decode_token(token, expected_type="access", settings=resources.settings)
    if not await resources.logins.is_alive(claims.family):
        raise LoginEnded()
    try:
        user = await cache.get_user(claims.sub)
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


async def get_requested_user(
    user_id: UUID, caller: CurrentUser, cache: UserCacheDep
) -> UserRead | UserPublic:
    """The user named in the path, as the caller may see it: whole for itself and for
    admins, public fields for anyone else. UserNotFound (404) when there is no such user."""
    user = await cache.get_user(user_id)
    if caller.id == user_id or caller.role == Role.ADMIN:
        return user
    return UserPublic.model_validate(user, from_attributes=True)


RequestedUser = Annotated[UserRead | UserPublic, Depends(get_requested_user)]


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
