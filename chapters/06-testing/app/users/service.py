"""User operations on the database. No HTTP here: failures are domain exceptions."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.passwords import PasswordHasher
from app.users.cache import UserCache
from app.users.exceptions import UserAlreadyExists, UserNotFound
from app.users.models import User, email_unique_index
from app.users.schemas import UserCreate, UserUpdate

MAX_EMAIL_LENGTH = 320  # the column's length: a longer text cannot be anyone's email


def _is_duplicate_email(error: IntegrityError) -> bool:
    # asyncpg's UniqueViolationError names the index that refused the row.
    constraint = getattr(error.orig.__cause__, "constraint_name", None)
    return constraint == email_unique_index.name


@asynccontextmanager
async def _email_must_be_unique(session: AsyncSession) -> AsyncIterator[None]:
    """Turn the unique index's refusal into UserAlreadyExists, whatever the race."""
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
    """Insert a user. A taken email (in any letter case) raises UserAlreadyExists."""
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
    """The user with this email in any letter case (the login form's text is unchecked)."""
    if len(email) > MAX_EMAIL_LENGTH or "\x00" in email:  # PostgreSQL would refuse NUL
        return None
    return await session.scalar(select(User).where(func.lower(User.email) == email.lower()))


async def list_users(session: AsyncSession, *, limit: int, offset: int) -> tuple[list[User], int]:
    """One page of users, oldest first, and how many there are in all."""
    # Ordered by a unique key as well: without it, pages may repeat or skip rows.
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
) -> User:
    """Change the fields that were sent, then drop the cached copy. Raises UserNotFound."""
    user = await session.get(User, user_id)
    if user is None:
        raise UserNotFound(user_id)
    for field, value in changes.model_dump(exclude_unset=True, exclude={"password"}).items():
        setattr(user, field, value)
    if changes.password is not None:
        user.hashed_password = await password_hasher.hash(changes.password.get_secret_value())
    async with _email_must_be_unique(session):
        await session.commit()
    # After the commit: invalidating before it would let a read cache the old row again.
    await cache.invalidate(user_id)
    return user


async def delete_user(session: AsyncSession, *, user_id: UUID, cache: UserCache) -> None:
    """Delete the user and its cached copy. Raises UserNotFound."""
    deleted = await session.scalar(delete(User).where(User.id == user_id).returning(User.id))
    if deleted is None:
        raise UserNotFound(user_id)
    await session.commit()
    await cache.invalidate(user_id)
