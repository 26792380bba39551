"""Who is calling: the bearer token verified, checked against revocation, its user loaded,
all without touching PostgreSQL while the cache is warm.

Decoding is CPU only. The revocation marks, the caller's cached user and any other user the
route reads come back in ONE Redis round trip (MGET): the whole Redis cost of a read. A read
of another user gets that user's cached JSON as it is stored, ready to send.
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


async def _check_token_and_fetch(
    request: Request, token: str | None, also_read: Sequence[UUID]
) -> tuple[TokenClaims, UserCache, list[str | None]]:
    """The token checked, and the cached entries of its user and of `also_read`, in ONE MGET.

    Raises 401 for a bad or revoked token, 503 when Redis cannot say whether the token is
    revoked (fail closed).
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
    return claims, cache, found[len(marks) :]


async def authenticate(request: Request, token: str | None) -> UserRead:
    """The caller, after one MGET; 401 as well when its user no longer exists."""
    claims, cache, (caller_entry,) = await _check_token_and_fetch(request, token, ())
    try:
        return await cache.resolve(claims.sub, caller_entry)
    except UserNotFound:
        raise InvalidToken("The token's user no longer exists.") from None


async def authenticate_and_read_json(request: Request, token: str | None, user_id: UUID) -> str:
    """For an authenticated read of another user: that user's JSON, after one MGET.

    The caller only has to exist, so its entry is not parsed either. Raises as
    `authenticate` does, and UserNotFound for `user_id`.
    """
    claims, cache, (caller_entry, user_entry) = await _check_token_and_fetch(
        request, token, (user_id,)
    )
    try:
        await cache.ensure_exists(claims.sub, caller_entry)
    except UserNotFound:
        raise InvalidToken("The token's user no longer exists.") from None
    return await cache.resolve_json(user_id, user_entry)


async def get_current_user(request: Request, token: BearerToken) -> UserRead:
    return await authenticate(request, token)


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
