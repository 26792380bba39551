"""PostgreSQL: the declarative base, the engine factory and the per-request session."""

from collections.abc import AsyncIterator

from fastapi import Request
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import DeclarativeBase

from app.config import Settings

# Constraints and indexes get predictable names, so migrations are reproducible and the
# service can tell which constraint refused a row (see users/service.py).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def create_engine_from(settings: Settings) -> AsyncEngine:
    """The process's connection pool. Called in the lifespan, never at import."""
    # TODO(database.engine): size the pool from the settings: pool_size, max_overflow,
    # pool_timeout and pool_recycle, and connect_args={"timeout": ...} for a dead server.
    return create_async_engine(settings.database_url)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request, closed (and its connection returned) when the request ends."""
    # TODO(database.session): open a session with `async with request.app.state.sessionmaker()`
    # and yield it inside the block, so it is closed when the request is done.
    yield None  # a placeholder: routes that need a session get None until you finish this
