"""User operations on the database. No HTTP here: the routes decide what the answers are."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.users.cache import UserCache
from app.users.exceptions import UserAlreadyExists
from app.users.models import User, email_unique_index
from app.users.schemas import UserCreate, UserUpdate


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


async def create_user(session: AsyncSession, *, data: UserCreate) -> User:
    """Insert a user. A taken email (in any letter case) raises UserAlreadyExists."""
    user = User(email=data.email, full_name=data.full_name)
    # No "does it exist?" query first: under a race both would say no. The index decides.
    async with _email_must_be_unique(session):
        session.add(user)
        await session.commit()
    return user


async def list_users(session: AsyncSession, *, limit: int, offset: int) -> tuple[list[User], int]:
    """One page of users, oldest first, and how many there are in all."""
    # Ordered by a unique key as well: without it, pages may repeat or skip rows.
    page = select(User).order_by(User.created_at, User.id).limit(limit).offset(offset)
    users = list(await session.scalars(page))
    total = await session.scalar(select(func.count()).select_from(User))
    return users, total or 0


async def update_user(
    session: AsyncSession, *, user_id: UUID, changes: UserUpdate, cache: UserCache
) -> User | None:
    """Change the fields that were sent, then drop the cached copy; None when there is no user."""
    user = await session.get(User, user_id)
    if user is None:
        return None
    for field, value in changes.model_dump(exclude_unset=True).items():
        setattr(user, field, value)
    async with _email_must_be_unique(session):
        await session.commit()
    # TODO(cache.invalidation): drop the cached copy (cache.invalidate), after the commit.
    return user


async def delete_user(session: AsyncSession, *, user_id: UUID, cache: UserCache) -> bool:
    """Delete the user and its cached copy; False when there was none."""
    deleted = await session.scalar(delete(User).where(User.id == user_id).returning(User.id))
    await session.commit()
    # TODO(cache.invalidation): drop the cached copy, after the commit here too.
    return deleted is not None
