"""`get_current_user`: who is calling, from the bearer token, without touching PostgreSQL.

Decoding is CPU only; the revocation marks and the cached user come back in ONE Redis
round trip (MGET). So an authenticated request costs no database query while the cache is
warm, and a single Redis exchange.
"""

import logging
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from redis.exceptions import RedisError

from app.auth.exceptions import (
    AdminRequired,
    InvalidToken,
    NotAuthenticated,
    RevocationCheckUnavailable,
    TokenRevoked,
)
from app.auth.revocation import ensure_not_revoked, revocation_keys
from app.auth.tokens import TokenClaims, decode_token
from app.users.cache import UserCache
from app.users.exceptions import UserNotFound
from app.users.models import Role
from app.users.schemas import UserRead

logger = logging.getLogger(__name__)

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
    request: Request, token: Annotated[str | None, Depends(bearer_token)]
) -> UserRead:
    """The caller's user: the token verified, checked against revocation, its user loaded."""
    if token is None:
        raise NotAuthenticated()
    state = request.app.state
    cache: UserCache = state.user_cache
    claims = decode_token(token, expected_type="access", settings=state.settings)
    token_mark_key, login_mark_key = revocation_keys(state.settings, claims)
    try:
        # One round trip answers both questions: is the token revoked, and who is its user?
        token_mark, login_mark, cached = await state.redis.mget(
            token_mark_key, login_mark_key, cache.key(claims.sub)
        )
    except RedisError:
        # The revocation answer is missing, so the token cannot be trusted: fail closed.
        logger.error("revocation check failed: refusing the token (fail closed)")
        raise RevocationCheckUnavailable() from None
    if token_mark is not None or login_mark is not None:
        raise TokenRevoked()
    user = cache.parse(cached) if cache.enabled else None
    try:
        return user or await cache.load(claims.sub)
    except UserNotFound:
        raise InvalidToken("The token's user no longer exists.") from None


async def get_admin_user(user: Annotated[UserRead, Depends(get_current_user)]) -> UserRead:
    if user.role != Role.ADMIN:
        raise AdminRequired()
    return user
