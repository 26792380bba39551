"""SQL query logging: every statement when switched on, and always the slow ones."""

import logging

from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings

logger = logging.getLogger("app.sql")


def install_query_logging(engine: AsyncEngine, settings: Settings) -> None:
    """Time each statement on the engine's connections and log it as the settings ask."""
    # TODO(errors.slow_queries): time every statement this engine sends, and log it on
    # logger "app.sql" with its `statement` and `duration_ms` as fields of the line:
    # - as a WARNING "slow query" when it took settings.slow_query_threshold_ms or more,
    #   whatever LOG_SQL_QUERIES says: slow statements are what production needs to see;
    # - as an INFO "query" otherwise, but only when settings.log_sql_queries is on.
    # Never log the parameters: they hold emails and password hashes. Connections run side
    # by side, so a statement's start time belongs to its own connection, not to a
    # variable every connection shares.
