"""`/users`: register, read, list, change and delete users."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, Response, status

from app.dependencies import SessionDep
from app.users import service
from app.users.dependencies import UserCacheDep
from app.users.exceptions import UserAlreadyExists, UserNotFound
from app.users.schemas import UserCreate, UserPage, UserRead, UserUpdate

router = APIRouter(prefix="/users", tags=["users"])

MAX_PAGE_SIZE = 100
MAX_OFFSET = 10_000  # deeper pages cost a scan of every skipped row


@contextmanager
def http_errors() -> Iterator[None]:
    """The domain's exceptions as HTTP answers, for the routes below."""
    try:
        yield
    except UserNotFound as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None
    except UserAlreadyExists as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None


# `:uuid` lets only ids match: `/users/abc` is a 404, like any path that names nothing.
@router.get("/{user_id:uuid}", summary="Read a user")
async def read_user(user_id: UUID, user_cache: UserCacheDep) -> UserRead:
    """One user, from the cache when it is warm."""
    with http_errors():
        return await user_cache.get_user(user_id)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Register a user")
async def register_user(data: UserCreate, session: SessionDep, response: Response) -> UserRead:
    """Create an account; the email must be new, in any letter case."""
    with http_errors():
        user = await service.create_user(session, data=data)
    response.headers["Location"] = f"/users/{user.id}"
    return UserRead.model_validate(user)


@router.get("", summary="List users")
async def list_users(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> UserPage:
    """One page of users, oldest first, with the total count."""
    users, total = await service.list_users(session, limit=limit, offset=offset)
    return UserPage(
        items=[UserRead.model_validate(user) for user in users],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.patch("/{user_id:uuid}", summary="Change a user")
async def update_user(
    user_id: UUID, changes: UserUpdate, session: SessionDep, user_cache: UserCacheDep
) -> UserRead:
    """Change the fields sent; the others keep their values."""
    with http_errors():
        user = await service.update_user(
            session, user_id=user_id, changes=changes, cache=user_cache
        )
    return UserRead.model_validate(user)


@router.delete("/{user_id:uuid}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a user")
async def delete_user(user_id: UUID, session: SessionDep, user_cache: UserCacheDep) -> Response:
    """Delete a user."""
    with http_errors():
        await service.delete_user(session, user_id=user_id, cache=user_cache)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
