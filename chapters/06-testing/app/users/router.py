"""`/users`: register, read and list users; change and delete your own account."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from app.dependencies import (
    AccountOwner,
    CurrentUser,
    PasswordHasherDep,
    SessionDep,
    UserCacheDep,
)
from app.users import service
from app.users.schemas import UserCreate, UserPage, UserRead, UserUpdate

router = APIRouter(prefix="/users", tags=["users"])

MAX_PAGE_SIZE = 100
MAX_OFFSET = 10_000  # deeper pages cost a scan of every skipped row


# Both spellings answer directly: clients (the article's among them) often add the slash.
@router.post("", status_code=status.HTTP_201_CREATED)
@router.post("/", status_code=status.HTTP_201_CREATED, include_in_schema=False)
async def register_user(
    data: UserCreate, session: SessionDep, password_hasher: PasswordHasherDep, response: Response
) -> UserRead:
    """Register a user; the email must be new, in any letter case."""
    user = await service.create_user(session, data=data, password_hasher=password_hasher)
    response.headers["Location"] = f"/users/{user.id}"
    return UserRead.model_validate(user)


@router.get("")
async def list_users(
    session: SessionDep,
    _: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> UserPage:
    """One page of users, oldest first, with the total count (for logged-in users)."""
    users, total = await service.list_users(session, limit=limit, offset=offset)
    return UserPage(
        items=[UserRead.model_validate(user) for user in users],
        total=total,
        limit=limit,
        offset=offset,
    )


# /users/me is declared before /users/{user_id}, or "me" would be read as an id.
@router.get("/me")
async def read_me(user: CurrentUser) -> UserRead:
    """The account the access token belongs to."""
    return user


@router.get("/{user_id}")
async def read_user(user_id: UUID, _: CurrentUser, user_cache: UserCacheDep) -> UserRead:
    """One user, from the cache when it is warm (for logged-in users)."""
    return await user_cache.get_user(user_id)


@router.patch("/{user_id}")
async def update_user(
    changes: UserUpdate,
    owner: AccountOwner,
    session: SessionDep,
    password_hasher: PasswordHasherDep,
    user_cache: UserCacheDep,
) -> UserRead:
    """Change your own account: the fields sent; the others keep their values."""
    user = await service.update_user(
        session,
        user_id=owner.id,
        changes=changes,
        password_hasher=password_hasher,
        cache=user_cache,
    )
    return UserRead.model_validate(user)


@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_user(
    owner: AccountOwner, session: SessionDep, user_cache: UserCacheDep
) -> Response:
    """Delete your own account; its tokens stop working with it."""
    await service.delete_user(session, user_id=owner.id, cache=user_cache)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
