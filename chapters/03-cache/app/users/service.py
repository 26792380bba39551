"""User operations on the database. No HTTP here: failures are domain exceptions."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.users.cache import UserCache
from app.users.exceptions import UserAlreadyExists, UserNotFound
from app.users.models import User, email_unique_index
from app.users.schemas import UserCreate, UserUpdate


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


async def create_user(session: AsyncSession, *, data: UserCreate) -> User:
    """Insert a user. A taken email (any case) raises UserAlreadyExists."""
    user = User(email=data.email, full_name=data.full_name)
    # No "does it exist?" query first: under a race both would say no. The index decides.
    async with _email_must_be_unique(session):
        session.add(user)
        await session.commit()
    return user


async def list_users(session: AsyncSession, *, limit: int, offset: int) -> tuple[list[User], int]:
    """One page of users, oldest first, and how many there are in all."""
    page = select(User).order_by(User.created_at, User.id).limit(limit).offset(offset)
    users = list(await session.scalars(page))
    total = await session.scalar(select(func.count()).select_from(User))
    return users, total or 0


async def update_user(
    session: AsyncSession, *, user_id: UUID, changes: UserUpdate, cache: UserCache
) -> User:
    """Apply the fields that were sent, in one UPDATE ... RETURNING, then drop the cached copy."""
    values: dict[str, Any] = changes.model_dump(exclude_unset=True)
    if values:
        statement = update(User).where(User.id == user_id).values(**values).returning(User)
    else:  # nothing to change: still answer with the current user, or 404
        statement = select(User).where(User.id == user_id)
    async with _email_must_be_unique(session):
        user = await session.scalar(statement)
        if user is None:
            raise UserNotFound(user_id)
        await session.commit()
    # TODO(cache.invalidation): after this change, no read may answer the user as it was.
    # Mind the moment: between a cache entry dropped too early and the commit, a read would
    # load the old row and cache it again.
    return user


async def delete_user(session: AsyncSession, *, user_id: UUID, cache: UserCache) -> None:
    """Delete the user and drop its cached copy."""
    deleted = await session.scalar(delete(User).where(User.id == user_id).returning(User.id))
    if deleted is None:
        raise UserNotFound(user_id)
    await session.commit()
    # TODO(cache.invalidation): after this delete, no read may answer the user any more.
