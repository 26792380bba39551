"""User operations on the database. No HTTP here: failures are domain exceptions."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.rate_limit import RateLimiter
from app.security.logins import LoginRegistry
from app.security.passwords import PasswordHasher
from app.users.cache import UserCache
from app.users.exceptions import UserAlreadyExists, UserNotFound
from app.users.models import User, email_unique_index
from app.users.schemas import AccountUpdate, UserCreate, UserUpdate, canonical_email


def _is_duplicate_email(error: IntegrityError) -> bool:
    # asyncpg's UniqueViolationError names the index that refused the row.
    constraint = getattr(error.orig.__cause__, "constraint_name", None)
    return constraint == email_unique_index.name


@asynccontextmanager
async def _email_must_be_unique(session: AsyncSession) -> AsyncIterator[None]:
    """Turn the unique index's refusal into UserAlreadyExists (a 409), whatever the race."""
    try:
        yield
    except IntegrityError as error:
        await session.rollback()
        if _is_duplicate_email(error):
            raise UserAlreadyExists() from None
        raise


async def create_user(
    session: AsyncSession, *, data: UserCreate, password_hasher: PasswordHasher
) -> User:
    """Insert a user with the `user` role. A taken email (any case) raises UserAlreadyExists."""
    user = User(
        email=data.email,
        full_name=data.full_name,
        hashed_password=await password_hasher.hash(data.password.get_secret_value()),
    )
    # No "does it exist?" query first: under a race both would say no. The index decides.
    async with _email_must_be_unique(session):
        session.add(user)
        await session.commit()
    return user


async def get_user_by_email(session: AsyncSession, *, email: str) -> User | None:
    # lower() on both sides, by PostgreSQL: the unique index compares with the same function.
    statement = select(User).where(func.lower(User.email) == func.lower(canonical_email(email)))
    return await session.scalar(statement)


async def get_password_hash(session: AsyncSession, *, user_id: UUID) -> str | None:
    """The hash stored now, read afresh (not from the session's identity map)."""
    return await session.scalar(select(User.hashed_password).where(User.id == user_id))


async def list_users(session: AsyncSession, *, limit: int, offset: int) -> tuple[list[User], int]:
    """One page of users, oldest first, and how many there are in all."""
    page = select(User).order_by(User.created_at, User.id).limit(limit).offset(offset)
    users = list(await session.scalars(page))
    total = await session.scalar(select(func.count()).select_from(User))
    return users, total or 0


async def update_user(
    session: AsyncSession,
    *,
    user_id: UUID,
    changes: UserUpdate,
    password_hasher: PasswordHasher,
    cache: UserCache,
    logins: LoginRegistry,
    keep_login: str | None = None,
) -> User:
    """Apply the fields that were sent, in one UPDATE ... RETURNING, then drop the cached copy.

    A new password ends every login of the user but `keep_login`: a thief's stolen session
    must not outlive the password it was opened with.
    """
    values: dict[str, Any] = changes.model_dump(
        exclude_unset=True, exclude={"password", "current_password"}
    )
    if changes.password is not None:
        values["hashed_password"] = await password_hasher.hash(changes.password.get_secret_value())
    # TODO(auth.password_change): a new password ends every login of the user but
    # `keep_login` (logins.end_all). No login opened with the old password may outlive this
    # call, not even one that checked the old password while this request was running (its
    # own re-check is in auth/service.py's start_login). And when Redis cannot end the
    # logins, the password must stay as it was: better a 503 than a new password while the
    # old sessions live on.
    if values:
        statement = update(User).where(User.id == user_id).values(**values).returning(User)
    else:  # nothing to change: still answer with the current user, or 404
        statement = select(User).where(User.id == user_id)
    async with _email_must_be_unique(session):
        user = await session.scalar(statement)
        if user is None:
            raise UserNotFound(user_id)
        await session.commit()
    await cache.invalidate(user_id)
    return user


async def change_account(
    session: AsyncSession,
    *,
    user_id: UUID,
    changes: AccountUpdate,
    password_hasher: PasswordHasher,
    rate_limiter: RateLimiter,
    settings: Settings,
    cache: UserCache,
    logins: LoginRegistry,
    keep_login: str,
) -> User:
    """A user changing its own account: a new email or password needs the current password,
    and a wrong one counts as a password guess against the account."""
    # TODO(auth.password_change): a stolen access token alone must not be enough to take the
    # account over. A new email or password goes through only with the account's current
    # password (the schema, AccountUpdate, already makes the client send one); a wrong one
    # is refused with WrongCurrentPassword and counts as a password guess against the
    # account, exactly like a wrong password at login (app/security/guesses.py), so the
    # endpoint cannot be used to guess passwords instead. Read the stored email and hash as
    # plain columns, not as a User object: the UPDATE that follows would expire the object
    # in this session, and async SQLAlchemy cannot load it back lazily.
    return await update_user(
        session,
        user_id=user_id,
        changes=changes,
        password_hasher=password_hasher,
        cache=cache,
        logins=logins,
        keep_login=keep_login,
    )


async def delete_user(
    session: AsyncSession, *, user_id: UUID, cache: UserCache, logins: LoginRegistry
) -> None:
    """Delete the user, end its logins and drop its cached copy."""
    deleted = await session.scalar(delete(User).where(User.id == user_id).returning(User.id))
    if deleted is None:
        raise UserNotFound(user_id)
    await session.commit()
    await logins.end_all(user_id=user_id)
    await cache.invalidate(user_id)
