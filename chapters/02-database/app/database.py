"""PostgreSQL: the declarative base and the engine factory."""

from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
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


def create_engine_from(settings: Settings) -> AsyncEngine:
    """The process's connection pool. Called in the lifespan, never at import.

    It connects to nothing yet: the pool opens connections as queries need them.
    """
    # TODO(database.engine): the pool takes SQLAlchemy's defaults today. Size it from the
    # PostgreSQL settings (app/config.py): the connections it keeps open, how many more it may
    # open under load, how long a request waits for a free one before failing, and the age at
    # which a connection is replaced (proxies and firewalls drop idle ones without a word).
    # Every worker process has a pool of its own, so together they must stay under the
    # server's max_connections. And a server that does not answer should fail a connection
    # attempt after the configured seconds, not after asyncpg's default of a minute.
    return create_async_engine(settings.database_url)
