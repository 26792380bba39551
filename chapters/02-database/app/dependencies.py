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
    # TODO(database.session): give every request a session of its own, made by the process's
    # sessionmaker (in the resources), and close it when the request is over, whether the
    # route returned or raised. A session is one unit of work and is not safe to share
    # between requests; and one that is never closed keeps its pooled connection, so after
    # a few such requests every other one waits for a connection, then fails. FastAPI runs
    # the code after a dependency's `yield` once the route is done.
    yield None  # a placeholder: routes that ask for a session get None until you finish this


SessionDep = Annotated[AsyncSession, Depends(get_session)]
