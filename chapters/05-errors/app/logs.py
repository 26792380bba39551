"""Structured JSON logs on stdout, each line carrying the id of the request it belongs to."""

import logging
from contextvars import ContextVar

from app.config import Settings

# Set by RequestIdMiddleware for the duration of a request; read by every log line.
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

HANDLER_NAME = "app-json"


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (unless the caller already passed one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # TODO(errors.json_logs): unless the record already has a `request_id` (passed with
        # `extra=`), set record.request_id from request_id_var.
        return True


def configure_logging(settings: Settings) -> None:
    """Send every logger, uvicorn's included, through one JSON handler on stdout.

    Only our own handler is replaced, so calling this again (a test per app) is harmless and
    handlers added by others (pytest's log capture) stay in place.
    """
    # TODO(errors.json_logs): on the root logger, remove any handler named HANDLER_NAME, then
    # add a logging.StreamHandler(sys.stdout) of that name with a RequestIdFilter and a
    # pythonjsonlogger JsonFormatter (time, level, logger, message, and `service` =
    # settings.app_name). Set the root level to settings.log_level, and make uvicorn's
    # loggers drop their own handlers and propagate to the root.
