"""`/auth`: log in (OAuth2 password flow), refresh, log out."""

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from app.auth import revocation
from app.auth.schemas import LogoutRequest, RefreshRequest, TokenPair
from app.auth.service import authenticate, issue_token_pair, rotate_refresh_token
from app.auth.tokens import decode_token
from app.dependencies import (
    AccessClaims,
    PasswordHasherDep,
    RedisDep,
    SessionDep,
    SettingsDep,
    UserCacheDep,
)
from app.rate_limit import limit_logins

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", dependencies=[Depends(limit_logins)])
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
    password_hasher: PasswordHasherDep,
) -> TokenPair:
    """Trade the email (as `username`) and password for an access and a refresh token."""
    user = await authenticate(
        session, email=form.username, password=form.password, password_hasher=password_hasher
    )
    return issue_token_pair(user_id=user.id, settings=settings)


@router.post("/refresh")
async def refresh(
    body: RefreshRequest, redis: RedisDep, settings: SettingsDep, user_cache: UserCacheDep
) -> TokenPair:
    """Trade a refresh token for a new pair; each refresh token works once."""
    return await rotate_refresh_token(
        refresh_token=body.refresh_token, redis=redis, settings=settings, user_cache=user_cache
    )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(
    body: LogoutRequest, claims: AccessClaims, redis: RedisDep, settings: SettingsDep
) -> Response:
    """Revoke this access token and the refresh token of the same login."""
    refresh_claims = decode_token(body.refresh_token, expected_type="refresh", settings=settings)
    await revocation.revoke_token(redis, settings, claims)
    await revocation.revoke_token(redis, settings, refresh_claims)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
