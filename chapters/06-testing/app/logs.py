"""Structured JSON logs on stdout, each line carrying the id of the request it belongs to."""

import logging
import sys
from contextvars import ContextVar

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from app.config import Settings

# Set by RequestIdMiddleware for the duration of a request; read by every log line.
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

HANDLER_NAME = "app-json"


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (unless the caller already passed one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


def configure_logging(settings: Settings) -> None:
    """Send every logger, uvicorn's included, through one JSON handler on stdout.

    Only our own handler is replaced, so calling this again (a test per app) is harmless and
    handlers added by others (pytest's log capture) stay in place.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == HANDLER_NAME:
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stdout)
    handler.set_name(HANDLER_NAME)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(
        JsonFormatter(
            "{asctime}{levelname}{name}{message}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            static_fields={"service": settings.app_name},
            # uvicorn adds an ANSI-coloured copy of its messages: noise in JSON.
            reserved_attrs=[*RESERVED_ATTRS, "color_message"],
        )
    )
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    for name in ("uvicorn", "uvicorn.error"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    # AccessLogMiddleware writes a richer line (route template, request id) for every request.
    logging.getLogger("uvicorn.access").disabled = True
