"""`/users`: register, read, list, change and delete users."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, Response, status

from app.dependencies import SessionDep, UserCacheDep
from app.users import service
from app.users.exceptions import UserAlreadyExists
from app.users.schemas import UserCreate, UserPage, UserRead, UserUpdate

router = APIRouter(prefix="/users", tags=["users"])

MAX_PAGE_SIZE = 100
MAX_OFFSET = 10_000  # deeper pages cost a scan of every skipped row


def _not_found(user_id: UUID) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"There is no user with id {user_id}.")


def _email_taken() -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, "A user with this email already exists.")


# Both spellings answer directly: clients (the article's among them) often add the slash.
@router.post("", status_code=status.HTTP_201_CREATED)
@router.post("/", status_code=status.HTTP_201_CREATED, include_in_schema=False)
async def register_user(data: UserCreate, session: SessionDep, response: Response) -> UserRead:
    """Register a user; the email must be new, in any letter case."""
    try:
        user = await service.create_user(session, data=data)
    except UserAlreadyExists:
        raise _email_taken() from None
    response.headers["Location"] = f"/users/{user.id}"
    return UserRead.model_validate(user)


@router.get("")
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


@router.get("/{user_id}")
async def read_user(user_id: UUID, user_cache: UserCacheDep) -> UserRead:
    """One user, from the cache when it is warm."""
    user = await user_cache.get_user(user_id)
    if user is None:
        raise _not_found(user_id)
    return user


@router.patch("/{user_id}")
async def update_user(
    user_id: UUID, changes: UserUpdate, session: SessionDep, user_cache: UserCacheDep
) -> UserRead:
    """Change the fields sent; the others keep their values."""
    try:
        user = await service.update_user(
            session, user_id=user_id, changes=changes, cache=user_cache
        )
    except UserAlreadyExists:
        raise _email_taken() from None
    if user is None:
        raise _not_found(user_id)
    return UserRead.model_validate(user)


@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_user(user_id: UUID, session: SessionDep, user_cache: UserCacheDep) -> Response:
    """Delete a user."""
    if not await service.delete_user(session, user_id=user_id, cache=user_cache):
        raise _not_found(user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
