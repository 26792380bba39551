"""User operations on the database. No HTTP here: failures are domain exceptions."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningUpdate

from app.config import Settings
from app.rate_limit import RateLimiter
from app.security.guesses import password_guess
from app.security.logins import LoginRegistry
from app.security.passwords import PasswordHasher
from app.users.cache import UserCache
from app.users.exceptions import UserAlreadyExists, UserNotFound, WrongCurrentPassword
from app.users.models import User, email_unique_index
from app.users.schemas import AccountUpdate, UserCreate, UserUpdate, canonical_email


def _is_duplicate_email(error: IntegrityError) -> bool:
    # asyncpg's UniqueViolationError names the index that refused the row.
    constraint = getattr(getattr(error.orig, "__cause__", None), "constraint_name", None)
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
        # Before the change: when Redis cannot end the logins, the password stays as it was
        # (503) instead of changing while the old sessions live on.
        await logins.end_all(user_id=user_id, keep_family=keep_login)
    statement: ReturningUpdate[User] | Select[User]
    if values:
        statement = update(User).where(User.id == user_id).values(**values).returning(User)
    else:  # nothing to change: still answer with the current user, or 404
        statement = select(User).where(User.id == user_id)
    async with _email_must_be_unique(session):
        user = await session.scalar(statement)
        if user is None:
            raise UserNotFound(user_id)
        await session.commit()
    if changes.password is not None:
        # Again after the commit: a login that checked the old password while this request
        # ran has registered by now (or will see the new hash itself; auth/service.py).
        await logins.end_all(user_id=user_id, keep_family=keep_login)
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
    if changes.changes_credentials and changes.current_password is not None:
        # Two columns, not the User: an object in the session would be synchronized by the
        # UPDATE below, and `updated_at` then expired (a lazy load async cannot do).
        stored = await session.execute(
            select(User.email, User.hashed_password).where(User.id == user_id)
        )
        credentials = stored.one_or_none()
        if credentials is None:
            raise UserNotFound(user_id)
        email, hashed_password = credentials
        async with password_guess(rate_limiter, settings, email=email):
            current = changes.current_password.get_secret_value()
            if not await password_hasher.verify(current, hashed_password):
                raise WrongCurrentPassword()
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
