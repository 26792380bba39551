"""`/auth`: log in (OAuth2 password flow), refresh, log out."""

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from app.auth import revocation
from app.auth.schemas import RefreshRequest, TokenPair
from app.auth.service import authenticate, rotate_refresh_token, start_login
from app.dependencies import (
    AccessClaims,
    PasswordHasherDep,
    RedisDep,
    SessionDep,
    SettingsDep,
    UserCacheDep,
)
from app.problems import problem_responses
from app.rate_limit import limit_logins

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/token",
    summary="Log in with email and password",
    dependencies=[Depends(limit_logins)],
    responses=problem_responses(400, 401, 422, 429),
)
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
    password_hasher: PasswordHasherDep,
    redis: RedisDep,
) -> TokenPair:
    """Trade the email (as `username`) and password for an access and a refresh token."""
    user = await authenticate(
        session, email=form.username, password=form.password, password_hasher=password_hasher
    )
    return await start_login(user_id=user.id, redis=redis, settings=settings)


@router.post(
    "/refresh",
    summary="Trade a refresh token for a new pair",
    responses=problem_responses(400, 401, 422, 503),
)
async def refresh(
    body: RefreshRequest, redis: RedisDep, settings: SettingsDep, user_cache: UserCacheDep
) -> TokenPair:
    """Each refresh token works once; using one twice revokes every token of that login."""
    return await rotate_refresh_token(
        refresh_token=body.refresh_token, redis=redis, settings=settings, user_cache=user_cache
    )


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke the access token and its refresh token",
    responses=problem_responses(401, 503),
)
async def logout(claims: AccessClaims, redis: RedisDep, settings: SettingsDep) -> Response:
    """Revoke this access token and every refresh token of the same login."""
    await revocation.revoke_login(redis, settings, claims)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
