"""PostgreSQL URLs in the two spellings the workshop meets: asyncpg's and SQLAlchemy's."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def plain_postgres_url(url: str) -> str:
    """`postgresql+asyncpg://...` -> `postgresql://...` (what asyncpg itself accepts)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme="postgresql"))


def sqlalchemy_url(url: str, database: str | None = None) -> str:
    """The SQLAlchemy asyncpg URL for a server URL, optionally for another database."""
    parts = urlsplit(url)
    path = f"/{database}" if database else parts.path
    return urlunsplit(parts._replace(scheme="postgresql+asyncpg", path=path))
