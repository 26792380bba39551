"""SQL query logging: every statement when switched on, and always the slow ones."""

import logging
import time

from sqlalchemy import Connection, event
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings

logger = logging.getLogger("app.sql")

_STARTED = "query_started_at"


def install_query_logging(engine: AsyncEngine, settings: Settings) -> None:
    """Time each statement on the engine's connections and log it as the settings ask."""
    slow_ms = settings.slow_query_threshold_ms
    log_all = settings.log_sql_queries

    def before_cursor_execute(conn: Connection, *_: object) -> None:
        # One slot per connection is enough: a connection runs one statement at a time.
        conn.info[_STARTED] = time.perf_counter()

    def after_cursor_execute(conn: Connection, _cursor: object, statement: str, *_: object) -> None:
        duration_ms = (time.perf_counter() - conn.info[_STARTED]) * 1000
        # Parameters are left out on purpose: they hold emails and password hashes.
        fields = {"statement": statement, "duration_ms": round(duration_ms, 3)}
        if duration_ms >= slow_ms:
            logger.warning("slow query", extra=fields)
        elif log_all:
            logger.info("query", extra=fields)

    sync_engine = engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", before_cursor_execute)
    event.listen(sync_engine, "after_cursor_execute", after_cursor_execute)
