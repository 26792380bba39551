"""`/auth`: log in (OAuth2 password flow), refresh, log out.

Token answers carry `Cache-Control: no-store` (RFC 6749, section 5.1): no cache, proxy or
browser history may keep a copy of the tokens.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from app.auth.dependencies import limit_logins, limit_refreshes
from app.auth.exceptions import InvalidCredentials, RefreshTokenReused
from app.auth.schemas import RefreshRequest, TokenPair
from app.auth.service import authenticate, rotate_refresh_token, start_login
from app.dependencies import (
    LoginsDep,
    PasswordHasherDep,
    RateLimiterDep,
    SessionDep,
    SettingsDep,
)
from app.problems import problem_responses
from app.security.exceptions import InvalidToken, LoginEnded, LoginStoreUnavailable
from app.users.dependencies import CurrentLogin, UserCacheDep, unauthorized, unavailable

router = APIRouter(prefix="/auth", tags=["auth"])

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


# TODO(errors.domain_exceptions): the last place where domain exceptions are turned into
# HTTP by hand. Once each exception carries its own answer and handle_domain_error gives it,
# a route only calls its service: no http_errors(), no HTTPException, no try/except.
@contextmanager
def http_errors() -> Iterator[None]:
    """The domain's exceptions as HTTP answers, for the routes below."""
    try:
        yield
    except (InvalidCredentials, InvalidToken, LoginEnded, RefreshTokenReused) as error:
        raise unauthorized(error) from None
    except LoginStoreUnavailable as error:
        raise unavailable(error) from None


@router.post(
    "/token",
    summary="Log in with email and password",
    dependencies=[Depends(limit_logins)],
    responses=problem_responses(400, 401, 422, 429, 503),
)
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
    password_hasher: PasswordHasherDep,
    rate_limiter: RateLimiterDep,
    logins: LoginsDep,
    response: Response,
) -> TokenPair:
    """Trade the email (as `username`) and password for an access and a refresh token."""
    with http_errors():
        user = await authenticate(
            session,
            email=form.username,
            password=form.password,
            password_hasher=password_hasher,
            rate_limiter=rate_limiter,
            settings=settings,
        )
        pair = await start_login(session, user=user, logins=logins, settings=settings)
    response.headers.update(NO_STORE)
    return pair


@router.post(
    "/refresh",
    summary="Trade a refresh token for a new pair",
    dependencies=[Depends(limit_refreshes)],
    responses=problem_responses(400, 401, 422, 429, 503),
)
async def refresh(
    body: RefreshRequest,
    logins: LoginsDep,
    settings: SettingsDep,
    user_cache: UserCacheDep,
    response: Response,
) -> TokenPair:
    """Each refresh token works once; using one twice ends the login it belongs to."""
    with http_errors():
        pair = await rotate_refresh_token(
            refresh_token=body.refresh_token,
            logins=logins,
            settings=settings,
            user_cache=user_cache,
        )
    response.headers.update(NO_STORE)
    return pair


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End this login",
    responses=problem_responses(401, 503),
)
async def logout(login: CurrentLogin, logins: LoginsDep) -> Response:
    """End the login of this access token: it and its refresh token stop working."""
    with http_errors():
        await logins.end(user_id=login.user.id, family=login.claims.family)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
