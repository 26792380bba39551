"""Logging in and rotating refresh tokens."""

from uuid import UUID

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import revocation
from app.auth.exceptions import InvalidCredentials, InvalidToken, RefreshTokenReused
from app.auth.passwords import PasswordHasher
from app.auth.schemas import TokenPair
from app.auth.tokens import decode_token, issue_token
from app.config import Settings
from app.users.cache import UserCache
from app.users.exceptions import UserNotFound
from app.users.models import User
from app.users.service import get_user_by_email


async def authenticate(
    session: AsyncSession, *, email: str, password: str, password_hasher: PasswordHasher
) -> User:
    """The user with this email and password, or InvalidCredentials.

    An unknown email costs the same argon2 work as a wrong password, so the time an answer
    takes does not tell an attacker which emails have accounts.
    """
    user = await get_user_by_email(session, email=email)
    if user is None:
        await password_hasher.verify_nothing(password)
        raise InvalidCredentials()
    if not await password_hasher.verify(password, user.hashed_password):
        raise InvalidCredentials()
    return user


def issue_token_pair(*, user_id: UUID, settings: Settings) -> TokenPair:
    return TokenPair(
        access_token=issue_token(user_id=user_id, token_type="access", settings=settings),
        refresh_token=issue_token(user_id=user_id, token_type="refresh", settings=settings),
        expires_in=settings.access_token_ttl_seconds,
    )


async def rotate_refresh_token(
    *, refresh_token: str, redis: Redis, settings: Settings, user_cache: UserCache
) -> TokenPair:
    """Trade a refresh token for a new pair. Each works once: it is revoked as it is used, so
    a second use (a thief's, or the owner's after a thief's) is refused."""
    claims = decode_token(refresh_token, expected_type="refresh", settings=settings)
    if not await revocation.revoke_token(redis, settings, claims):
        raise RefreshTokenReused()
    try:
        await user_cache.get_user(claims.sub)
    except UserNotFound:
        raise InvalidToken("The token's user no longer exists.") from None
    return issue_token_pair(user_id=claims.sub, settings=settings)
