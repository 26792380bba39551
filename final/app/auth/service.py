"""Logging in, rotating refresh tokens and logging out."""

from uuid import UUID, uuid4

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

# Longer than any stored address: such a "username" cannot match, skip the query.
_MAX_EMAIL_LENGTH = 320


async def authenticate(
    session: AsyncSession, *, email: str, password: str, password_hasher: PasswordHasher
) -> User:
    """The user with this email and password, or InvalidCredentials.

    An unknown email costs the same argon2 work as a wrong password, and a hash made with
    older parameters is replaced now, while the plain password is at hand.
    """
    known = len(email) <= _MAX_EMAIL_LENGTH and "\x00" not in email
    user = await get_user_by_email(session, email=email) if known else None
    if user is None:
        await password_hasher.verify_nothing(password)
        raise InvalidCredentials()
    valid, new_hash = await password_hasher.verify_and_update(password, user.hashed_password)
    if not valid:
        raise InvalidCredentials()
    if new_hash is not None:
        user.hashed_password = new_hash
        await session.commit()
    return user


async def start_login(*, user_id: UUID, redis: Redis, settings: Settings) -> TokenPair:
    """A new login: a new family of tokens, noted under its user for a password change."""
    family = uuid4().hex
    await revocation.remember_login(redis, settings, user_id=user_id, family=family)
    return issue_token_pair(user_id=user_id, family=family, settings=settings)


def issue_token_pair(*, user_id: UUID, family: str, settings: Settings) -> TokenPair:
    """A fresh access + refresh pair of a family: a login starts one, a refresh keeps its own."""
    access = issue_token(user_id=user_id, token_type="access", family=family, settings=settings)
    refresh = issue_token(user_id=user_id, token_type="refresh", family=family, settings=settings)
    return TokenPair(
        access_token=access.token,
        refresh_token=refresh.token,
        expires_in=settings.access_token_ttl_seconds,
    )


async def rotate_refresh_token(
    *, refresh_token: str, redis: Redis, settings: Settings, user_cache: UserCache
) -> TokenPair:
    """Trade a refresh token for a new pair. Each refresh token works once: a second use
    means two parties hold it, so the whole family is revoked and both must log in again."""
    claims = decode_token(refresh_token, expected_type="refresh", settings=settings)
    await revocation.ensure_not_revoked(redis, settings, claims)
    if not await revocation.use_refresh_token(redis, settings, claims):
        await revocation.revoke_family(redis, settings, claims.family)
        raise RefreshTokenReused()
    try:
        await user_cache.get_user(claims.sub)
    except UserNotFound:
        raise InvalidToken("The token's user no longer exists.") from None
    # The login lives on: note it until its new refresh token expires.
    await revocation.remember_login(redis, settings, user_id=claims.sub, family=claims.family)
    return issue_token_pair(user_id=claims.sub, family=claims.family, settings=settings)
