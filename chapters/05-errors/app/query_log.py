"""SQL query logging: every statement when switched on, and always the slow ones."""

import logging

from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings

logger = logging.getLogger("app.sql")


def install_query_logging(engine: AsyncEngine, settings: Settings) -> None:
    """Time each statement on the engine's connections and log it as the settings ask."""
    # TODO(errors.slow_queries): listen to "before_cursor_execute" (start a clock) and
    # "after_cursor_execute" (measure) on engine.sync_engine. Log a WARNING "slow query" when
    # it took settings.slow_query_threshold_ms or more, else an INFO "query" when
    # settings.log_sql_queries is on; pass statement and duration_ms with `extra=`, never
    # the parameters.
