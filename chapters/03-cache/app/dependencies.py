"""The shared route dependencies, named once: a route's signature reads like its needs
(`session: SessionDep`). The domains name their own (users/dependencies.py).
"""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from app.resources import Resources, get_resources

ResourcesDep = Annotated[Resources, Depends(get_resources)]


async def get_session(resources: ResourcesDep) -> AsyncIterator[AsyncSession]:
    """One session per request, closed (and its connection returned) when the request ends."""
    async with resources.sessionmaker() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
