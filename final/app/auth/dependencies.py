"""Who is calling: the bearer token verified, checked against revocation, its user loaded,
all without touching PostgreSQL while the cache is warm.

Decoding is CPU only. The revocation marks, the caller's cached user and any other user the
route reads come back in ONE Redis round trip (MGET): the whole Redis cost of a read.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

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
BearerToken = Annotated[str | None, Depends(bearer_token)]


def _verified_claims(request: Request, token: str | None) -> TokenClaims:
    if token is None:
        raise NotAuthenticated()
    return decode_token(token, expected_type="access", settings=request.app.state.settings)


async def get_access_claims(request: Request, token: BearerToken) -> TokenClaims:
    """The verified, unrevoked claims of the request's access token (no user loaded)."""
    claims = _verified_claims(request, token)
    await ensure_not_revoked(request.app.state.redis, request.app.state.settings, claims)
    return claims


async def authenticate(
    request: Request, token: str | None, *, also_read: Sequence[UUID] = ()
) -> tuple[UserRead, list[UserRead]]:
    """The caller, and the users `also_read` names, after one MGET for all of them.

    Raises 401 for a bad or revoked token or a caller that no longer exists, 503 when Redis
    cannot say whether the token is revoked (fail closed), UserNotFound for `also_read`.
    """
    claims = _verified_claims(request, token)
    state = request.app.state
    cache: UserCache = state.user_cache
    marks = revocation_keys(state.settings, claims)
    wanted = [claims.sub, *also_read]
    try:
        found = await state.redis.mget(*marks, *(cache.key(user_id) for user_id in wanted))
    except RedisError:
        # No answer about revocation, so the token cannot be trusted: fail closed.
        logger.error("revocation check failed: refusing the token (fail closed)")
        raise RevocationCheckUnavailable() from None
    if any(mark is not None for mark in found[: len(marks)]):
        raise TokenRevoked()
    cached = found[len(marks) :]
    try:
        caller = await cache.resolve(claims.sub, cached[0])
    except UserNotFound:
        raise InvalidToken("The token's user no longer exists.") from None
    others = [
        await cache.resolve(user_id, raw)
        for user_id, raw in zip(also_read, cached[1:], strict=True)
    ]
    return caller, others


async def get_current_user(request: Request, token: BearerToken) -> UserRead:
    caller, _ = await authenticate(request, token)
    return caller


@dataclass(frozen=True)
class Login:
    """The caller and the claims of the token it called with (`family` names its login)."""

    user: UserRead
    claims: TokenClaims


async def get_current_login(
    request: Request, token: BearerToken, user: Annotated[UserRead, Depends(get_current_user)]
) -> Login:
    # get_current_user checked the token (revocation included); reading it again is cached.
    return Login(user=user, claims=_verified_claims(request, token))


async def get_admin_user(user: Annotated[UserRead, Depends(get_current_user)]) -> UserRead:
    if user.role != Role.ADMIN:
        raise AdminRequired()
    return user
