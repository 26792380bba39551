"""User operations on the database. No HTTP here: the routes decide what the answers are."""

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from app.users.models import User
from app.users.schemas import UserCreate, UserUpdate

# TODO(database.unique_email): never ask "is this email taken?" before writing: under a race
# both requests hear "no". Let the commits of create_user and update_user fail instead: catch
# the IntegrityError of email_unique_index, roll the session back, raise UserAlreadyExists.


async def create_user(session: AsyncSession, *, data: UserCreate) -> User:
    """Insert a user. A taken email (in any letter case) raises UserAlreadyExists."""
    # TODO(database.crud): make a User from data, add it to the session, commit, return it.
    raise NotImplementedError("create_user: exercise database.crud")


async def get_user(session: AsyncSession, *, user_id: UUID) -> User | None:
    # TODO(database.crud): the user with this primary key, or None.
    raise NotImplementedError("get_user: exercise database.crud")


async def list_users(session: AsyncSession, *, limit: int, offset: int) -> tuple[list[User], int]:
    """One page of users, oldest first, and how many there are in all."""
    # TODO(database.pagination): select one page in a stable order (oldest first, then a
    # unique column to break ties), and count every user with a second query.
    raise NotImplementedError("list_users: exercise database.pagination")


async def update_user(session: AsyncSession, *, user_id: UUID, changes: UserUpdate) -> User | None:
    """Change the fields that were sent; None when there is no such user."""
    # TODO(database.crud): load the user; set only the fields the client sent
    # (changes.model_dump(exclude_unset=True)), commit, return it.
    raise NotImplementedError("update_user: exercise database.crud")


async def delete_user(session: AsyncSession, *, user_id: UUID) -> bool:
    """Delete the user; False when there was none."""
    # TODO(database.crud): delete the row, commit, and say whether there was one.
    raise NotImplementedError("delete_user: exercise database.crud")
