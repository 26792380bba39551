"""Logging in, rotating refresh tokens and logging out."""

from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.exceptions import InvalidCredentials, RefreshTokenReused
from app.auth.schemas import TokenPair
from app.config import Settings
from app.rate_limit import RateLimiter
from app.security.exceptions import InvalidToken, LoginEnded
from app.security.guesses import password_guess
from app.security.logins import LoginRegistry, Rotation
from app.security.passwords import PasswordHasher
from app.security.tokens import decode_token, encode_token, new_claims
from app.users.cache import UserCache
from app.users.exceptions import UserNotFound
from app.users.models import User
from app.users.service import get_password_hash, get_user_by_email

# Longer than any stored address: such a "username" cannot match, skip the query.
_MAX_EMAIL_LENGTH = 320


async def authenticate(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    password_hasher: PasswordHasher,
    rate_limiter: RateLimiter,
    settings: Settings,
) -> User:
    """The user with this email and password, or InvalidCredentials.

    An unknown email costs the same argon2 work as a wrong password; every failure counts
    against the account's password guesses; a hash made with older parameters is replaced
    now, while the plain password is at hand.
    """
    async with password_guess(rate_limiter, settings, email=email):
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


async def start_login(
    session: AsyncSession, *, user: User, logins: LoginRegistry, settings: Settings
) -> TokenPair:
    """A new login (a new family of tokens) for a user whose password was just checked.

    A password change may have committed while the password was being checked: the login
    is registered first, then the hash is read again. Either the change's own sweep of the
    user's logins ends this one, or this check sees the new hash (users/service.py).
    """
    family = uuid4().hex
    pair, refresh_jti = issue_token_pair(user_id=user.id, family=family, settings=settings)
    await logins.start(user_id=user.id, family=family, refresh_jti=refresh_jti)
    if await get_password_hash(session, user_id=user.id) != user.hashed_password:
        await logins.end(user_id=user.id, family=family)
        raise InvalidCredentials()
    return pair


def issue_token_pair(*, user_id: UUID, family: str, settings: Settings) -> tuple[TokenPair, str]:
    """A fresh access + refresh pair of a login, and the refresh token's jti."""
    access = new_claims(user_id=user_id, token_type="access", family=family, settings=settings)
    refresh = new_claims(user_id=user_id, token_type="refresh", family=family, settings=settings)
    pair = TokenPair(
        access_token=encode_token(access, settings),
        refresh_token=encode_token(refresh, settings),
        expires_in=settings.access_token_ttl_seconds,
    )
    return pair, refresh.jti


async def rotate_refresh_token(
    *, refresh_token: str, logins: LoginRegistry, settings: Settings, user_cache: UserCache
) -> TokenPair:
    """Trade a refresh token for a new pair. Each refresh token works once: a second use
    means two parties hold it, so the whole login ends and both must log in again."""
    claims = decode_token(refresh_token, expected_type="refresh", settings=settings)
    pair, new_jti = issue_token_pair(user_id=claims.sub, family=claims.family, settings=settings)
    outcome = await logins.rotate(claims, new_refresh_jti=new_jti)
    if outcome is Rotation.REUSED:
        raise RefreshTokenReused()
    if outcome is Rotation.ENDED:
        raise LoginEnded()
    try:
        await user_cache.get_user(claims.sub)
    except UserNotFound:
        await logins.end(user_id=claims.sub, family=claims.family)
        raise InvalidToken("The token's user no longer exists.") from None
    return pair
