"""Who is calling: the bearer token verified, checked against revocation, its user loaded."""

from typing import Annotated
from uuid import UUID

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer

from app.auth.exceptions import InvalidToken, TokenRevoked
from app.auth.revocation import ensure_not_revoked
from app.auth.tokens import TokenClaims, decode_token
from app.users.schemas import UserRead

# Reads `Authorization: Bearer <token>`; /docs logs in through tokenUrl.
bearer_token = OAuth2PasswordBearer(tokenUrl="/auth/token")


def unauthorized(detail: str) -> HTTPException:
    """401, with the header that tells the client to send a bearer token (RFC 6750)."""
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"}
    )


async def get_access_claims(
    request: Request, token: Annotated[str, Depends(bearer_token)]
) -> TokenClaims:
    """The verified, unrevoked claims of the request's access token."""
    settings = request.app.state.settings
    try:
        claims = decode_token(token, expected_type="access", settings=settings)
        await ensure_not_revoked(request.app.state.redis, settings, claims)
    except (InvalidToken, TokenRevoked) as error:
        raise unauthorized(str(error)) from None
    return claims


async def get_current_user(
    request: Request, claims: Annotated[TokenClaims, Depends(get_access_claims)]
) -> UserRead:
    """The user the access token belongs to, from the cache when it is warm."""
    user = await request.app.state.user_cache.get_user(claims.sub)
    if user is None:  # deleted since the token was issued
        raise unauthorized("The token's user no longer exists.")
    return user


async def get_account_owner(
    user_id: UUID, user: Annotated[UserRead, Depends(get_current_user)]
) -> UserRead:
    """The caller, when the account in the path is theirs: users change only themselves."""
    if user.id != user_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "You can only change your own account.")
    return user
