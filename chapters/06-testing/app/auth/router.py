"""`/auth`: log in (OAuth2 password flow), refresh, log out.

Token answers carry `Cache-Control: no-store` (RFC 6749, section 5.1): no cache, proxy or
browser history may keep a copy of the tokens.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from app.auth.dependencies import limit_logins, limit_refreshes
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
from app.users.dependencies import CurrentLogin, UserCacheDep

router = APIRouter(prefix="/auth", tags=["auth"])

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


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
    user = await authenticate(
        session,
        email=form.username,
        password=form.password,
        password_hasher=password_hasher,
        rate_limiter=rate_limiter,
        settings=settings,
    )
    response.headers.update(NO_STORE)
    return await start_login(session, user=user, logins=logins, settings=settings)


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
    response.headers.update(NO_STORE)
    return await rotate_refresh_token(
        refresh_token=body.refresh_token, logins=logins, settings=settings, user_cache=user_cache
    )


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End this login",
    responses=problem_responses(401, 503),
)
async def logout(login: CurrentLogin, logins: LoginsDep) -> Response:
    """End the login of this access token: it and its refresh token stop working."""
    await logins.end(user_id=login.user.id, family=login.claims.family)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
