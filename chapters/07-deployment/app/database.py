"""PostgreSQL: the declarative base, the engine factory, and closing a session safely."""

import asyncpg
from sqlalchemy import MetaData, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import DeclarativeBase

from app.config import Settings

# Named constraints make migrations reproducible and errors easy to map (see users/service.py).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# What asyncpg raises when PostgreSQL has dropped a connection (terminated it, restarted,
# failed over) or left it mid-operation; SQLAlchemy does not always see a disconnect in them.
BROKEN_CONNECTION_ERRORS = (
    asyncpg.exceptions.PostgresConnectionError,  # SQLSTATE class 08: the connection is gone
    asyncpg.exceptions.AdminShutdownError,  # 57P01: terminated by an administrator
    asyncpg.exceptions.CrashShutdownError,  # 57P02
    asyncpg.exceptions.CannotConnectNowError,  # 57P03: starting up or shutting down
    asyncpg.exceptions.InternalClientError,  # the protocol was left mid-operation
)


def _mark_broken_connections(context: ExceptionContext) -> None:
    """Count a broken connection as a disconnect: the pool then discards it (and every
    connection as old as it), so the next request gets a fresh one instead of the corpse."""
    error = context.original_exception
    if isinstance(error, BROKEN_CONNECTION_ERRORS) or isinstance(
        error.__cause__, BROKEN_CONNECTION_ERRORS
    ):
        context.is_disconnect = True


def create_engine_from(settings: Settings) -> AsyncEngine:
    """The process's connection pool. Called in the lifespan, never at import."""
    engine = create_async_engine(
        settings.database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_timeout=settings.database_pool_timeout_seconds,
        pool_recycle=settings.database_pool_recycle_seconds,
        # A checkout tests the connection first (one round trip) and replaces a dead one,
        # so connections that PostgreSQL dropped while idle never reach a request.
        pool_pre_ping=True,
        connect_args={
            "timeout": settings.database_connect_timeout_seconds,
            "server_settings": {"application_name": settings.app_name},
        },
    )
    event.listen(engine.sync_engine, "handle_error", _mark_broken_connections)
    return engine


async def close_session(session: AsyncSession) -> None:
    """Close a session after its request was answered.

    If PostgreSQL dropped the connection meanwhile, the ROLLBACK of the close fails, but there
    is nothing left to undo (the server rolled back with the connection) and the pool has
    discarded it: the request went well, so the error is not raised.
    """
    try:
        await session.close()
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
