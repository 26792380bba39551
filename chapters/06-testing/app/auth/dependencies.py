"""Who is calling: the bearer token verified, checked against revocation, its user loaded."""

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from app.auth.exceptions import InvalidToken, NotAccountOwner
from app.auth.revocation import ensure_not_revoked
from app.auth.tokens import TokenClaims, decode_token
from app.users.exceptions import UserNotFound
from app.users.schemas import UserRead

# Reads `Authorization: Bearer <token>`; /docs logs in through tokenUrl.
bearer_token = OAuth2PasswordBearer(tokenUrl="/auth/token")


async def get_access_claims(
    request: Request, token: Annotated[str, Depends(bearer_token)]
) -> TokenClaims:
    """The verified, unrevoked claims of the request's access token."""
    settings = request.app.state.settings
    claims = decode_token(token, expected_type="access", settings=settings)
    await ensure_not_revoked(request.app.state.redis, settings, claims)
    return claims


async def get_current_user(
    request: Request, claims: Annotated[TokenClaims, Depends(get_access_claims)]
) -> UserRead:
    """The user the access token belongs to, from the cache when it is warm."""
    try:
        return await request.app.state.user_cache.get_user(claims.sub)
    except UserNotFound:  # deleted since the token was issued
        raise InvalidToken("The token's user no longer exists.") from None


async def get_account_owner(
    user_id: UUID, user: Annotated[UserRead, Depends(get_current_user)]
) -> UserRead:
    """The caller, when the account in the path is theirs: users change only themselves."""
    if user.id != user_id:
        raise NotAccountOwner()
    return user
