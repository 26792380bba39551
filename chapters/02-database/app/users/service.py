"""User operations on the database. No HTTP here: failures are domain exceptions."""

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from app.users.models import User
from app.users.schemas import UserCreate, UserUpdate

# TODO(database.unique_email): a taken email must raise UserAlreadyExists, in create_user and
# in update_user, even when two requests race. Never ask "is it taken?" before writing: two
# racing requests both hear "no", then both write. Let the write itself fail: the unique
# index refuses the second row when it is sent, with an IntegrityError. Then the session is
# unusable until it is rolled back. Only the email index's refusal is a conflict: any other
# integrity error is a bug and must go on as it is (asyncpg names the refusing constraint
# on the error's cause).


async def create_user(session: AsyncSession, *, data: UserCreate) -> User:
    """Insert a user. A taken email (any case) raises UserAlreadyExists."""
    # TODO(database.crud): insert a User made from the data and commit it; answer the user,
    # with the id and timestamps the database gave it.
    raise NotImplementedError("create_user: exercise database.crud")


async def get_user(session: AsyncSession, *, user_id: UUID) -> User:
    """The user with this id. Raises UserNotFound."""
    # TODO(database.crud): load the user by its primary key; a missing one raises
    # UserNotFound (app/users/exceptions.py): the service speaks the domain, the route
    # decides the status code.
    raise NotImplementedError("get_user: exercise database.crud")


async def list_users(session: AsyncSession, *, limit: int, offset: int) -> tuple[list[User], int]:
    """One page of users, oldest first, and how many there are in all."""
    # TODO(database.pagination): let PostgreSQL pick the page, not Python: a page read whole
    # and sliced here costs the entire table on every request. Order the users oldest first
    # in a total order: rows have no order of their own (without ORDER BY PostgreSQL answers
    # them as they lie on disk), and users created in one transaction share their
    # created_at, so break ties with a unique column; otherwise a client walking the pages
    # meets some users twice and misses others. Count every user in a query of its own.
    raise NotImplementedError("list_users: exercise database.pagination")


async def update_user(session: AsyncSession, *, user_id: UUID, changes: UserUpdate) -> User:
    """Apply the fields that were sent. Raises UserNotFound."""
    # TODO(database.crud): change only the fields the client sent: one left out keeps its
    # value, and a null full_name clears it. Commit, and answer the user as it now is; a
    # missing user raises UserNotFound.
    raise NotImplementedError("update_user: exercise database.crud")


async def delete_user(session: AsyncSession, *, user_id: UUID) -> None:
    """Delete the user. Raises UserNotFound."""
    # TODO(database.crud): delete the user's row and commit; when there was no such row,
    # raise UserNotFound.
    raise NotImplementedError("delete_user: exercise database.crud")
