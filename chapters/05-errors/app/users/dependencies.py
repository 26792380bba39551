"""Who is calling, and what the users routes need."""

from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from fastapi import Depends, HTTPException, Request, Response, status
from fastapi.security import OAuth2PasswordBearer

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

# auto_error=False: a missing token becomes our own 401 (with its WWW-Authenticate header).
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


# TODO(errors.domain_exceptions): the dependencies below turn domain exceptions into
# HTTPExceptions by hand, as the routes' http_errors() do. Let each exception travel to
# handle_domain_error instead: raise it, and these two helpers go (app/auth/router.py
# imports them until its own http_errors() is gone). One translation stays, in the
# domain's words: a token whose user no longer exists is an invalid token.
def unauthorized(error: Exception) -> HTTPException:
    """401, with the header that tells the client to send a bearer token (RFC 6750)."""
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, str(error), headers={"WWW-Authenticate": "Bearer"}
    )


def unavailable(error: Exception) -> HTTPException:
    """503: not the client's fault, and worth trying again shortly."""
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE, str(error), headers={"Retry-After": "5"}
    )


@dataclass(frozen=True)
class Login:
    """The caller and the claims of the token it called with (`family` names its login)."""

    user: UserRead
    claims: TokenClaims


async def get_current_login(
    resources: ResourcesDep, cache: UserCacheDep, token: BearerToken
) -> Login:
    """The caller: a valid access token whose login is alive, and its user, who must exist."""
    try:
        if token is None:
            raise NotAuthenticated()
        claims = decode_token(token, expected_type="access", settings=resources.settings)
        if not await resources.logins.is_alive(claims.family):
            raise LoginEnded()
        user = await cache.get_user(claims.sub)
    except (NotAuthenticated, InvalidToken, LoginEnded) as error:
        raise unauthorized(error) from None
    except UserNotFound:
        raise unauthorized(InvalidToken("The token's user no longer exists.")) from None
    except LoginStoreUnavailable as error:  # no answer is no access: fail closed
        raise unavailable(error) from None
    return Login(user=user, claims=claims)


CurrentLogin = Annotated[Login, Depends(get_current_login)]


async def get_current_user(login: CurrentLogin) -> UserRead:
    return login.user


CurrentUser = Annotated[UserRead, Depends(get_current_user)]


async def get_admin_user(user: CurrentUser) -> UserRead:
    if user.role != Role.ADMIN:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(AdminRequired()))
    return user


AdminUser = Annotated[UserRead, Depends(get_admin_user)]


async def get_requested_user(
    user_id: UUID, caller: CurrentUser, cache: UserCacheDep
) -> UserRead | UserPublic:
    """The user named in the path, as the caller may see it: whole for itself and for
    admins, public fields for anyone else; 404 when there is no such user."""
    try:
        user = await cache.get_user(user_id)
    except UserNotFound as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None
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
