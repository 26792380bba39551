"""`/auth`: log in (OAuth2 password flow), refresh, log out."""

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from app.auth.dependencies import unauthorized
from app.auth.exceptions import InvalidToken, RefreshTokenReused
from app.auth.schemas import LogoutRequest, RefreshRequest, TokenPair
from app.auth.service import rotate_refresh_token
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
    # TODO(auth.login): authenticate form.username and form.password (app.auth.service);
    # InvalidCredentials becomes unauthorized(str(error)), a user gets issue_token_pair(...).
    raise unauthorized("Logging in is not written yet (exercise auth.login).")


@router.post("/refresh")
async def refresh(
    body: RefreshRequest, redis: RedisDep, settings: SettingsDep, user_cache: UserCacheDep
) -> TokenPair:
    """Trade a refresh token for a new pair; each refresh token works once."""
    try:
        return await rotate_refresh_token(
            refresh_token=body.refresh_token, redis=redis, settings=settings, user_cache=user_cache
        )
    except (InvalidToken, RefreshTokenReused) as error:
        raise unauthorized(str(error)) from None


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(
    body: LogoutRequest, claims: AccessClaims, redis: RedisDep, settings: SettingsDep
) -> Response:
    """Revoke this access token and the refresh token of the same login."""
    # TODO(auth.logout): decode body.refresh_token as a refresh token (an InvalidToken is a
    # 401, before anything is revoked), then revoke both tokens (app.auth.revocation).
    return Response(status_code=status.HTTP_204_NO_CONTENT)
