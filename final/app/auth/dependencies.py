"""`get_current_user`: who is calling, from the bearer token, without touching PostgreSQL.

Decoding is CPU only; the revocation check is one Redis round trip; the user comes from the
user cache. So an authenticated request costs no database query while the cache is warm.
"""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from app.auth.exceptions import AdminRequired, InvalidToken, NotAuthenticated
from app.auth.revocation import ensure_not_revoked
from app.auth.tokens import TokenClaims, decode_token
from app.users.exceptions import UserNotFound
from app.users.models import Role
from app.users.schemas import UserRead

# auto_error=False: a missing token becomes our own 401 problem, not FastAPI's default.
bearer_token = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


async def get_access_claims(
    request: Request, token: Annotated[str | None, Depends(bearer_token)]
) -> TokenClaims:
    """The verified, unrevoked claims of the request's access token."""
    if token is None:
        raise NotAuthenticated()
    state = request.app.state
    claims = decode_token(token, expected_type="access", settings=state.settings)
    await ensure_not_revoked(state.redis, state.settings, claims)
    return claims


async def get_current_user(
    request: Request, claims: Annotated[TokenClaims, Depends(get_access_claims)]
) -> UserRead:
    try:
        return await request.app.state.user_cache.get_user(claims.sub)
    except UserNotFound:
        raise InvalidToken("The token's user no longer exists.") from None


async def get_admin_user(user: Annotated[UserRead, Depends(get_current_user)]) -> UserRead:
    if user.role != Role.ADMIN:
        raise AdminRequired()
    return user
