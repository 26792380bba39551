"""Exercise errors.json_logs: one JSON object per log line, each with its request id."""

import io
import logging
import sys

import pytest

from app.logs import request_id_var
from app.main import create_app

pytestmark = pytest.mark.exercise("errors.json_logs")

WHERE = "Finish configure_logging and RequestIdFilter in app/logs.py (exercise errors.json_logs)."
MEMBERS = ("time", "level", "logger", "message", "service", "request_id")
ACCESS_MEMBERS = ("method", "path", "route", "status", "duration_ms")
# What every LogRecord carries and a JSON line should not repeat.
RECORD_INTERNALS = {"msg", "args", "levelno", "pathname", "lineno", "funcName", "thread"}


def one_line(logs, message: str) -> dict:
    lines = logs.with_message(message)
    assert len(lines) == 1, (
        f"Logging {message!r} once should write one JSON line; the handler wrote "
        f"{logs.text[:400]!r}. {WHERE}"
    )
    return lines[0]


async def test_the_handler_writes_json_lines_to_stdout(app):
    ours = [h for h in logging.getLogger().handlers if h.get_name() == "app-json"]

    assert ours, (
        "The root logger should have a handler named 'app-json' (HANDLER_NAME) that writes "
        f"the JSON lines; it has none. {WHERE}"
    )
    stream = getattr(ours[-1], "stream", None)
    shown = "sys.stderr (a StreamHandler's default)" if stream is sys.stderr else repr(stream)
    assert stream is sys.stdout, (
        f"The JSON handler should write to sys.stdout, where a container platform collects "
        f"what a service logs; it writes to {shown}. {WHERE}"
    )


async def test_a_line_is_json_with_its_request_id(app, json_logs, settings):
    token = request_id_var.set("req-in-progress")  # as RequestIdMiddleware does
    try:
        with json_logs.capture() as logs:
            logging.getLogger("app.users").info("user looked up")
    finally:
        request_id_var.reset(token)

    line = one_line(logs, "user looked up")
    missing = [member for member in MEMBERS if member not in line]
    assert not missing, (
        f"A JSON log line needs {list(MEMBERS)}; {missing} missing in {line}. Rename "
        f"asctime, levelname and name, and add service as a static field. {WHERE}"
    )
    internals = sorted(RECORD_INTERNALS & line.keys())
    assert not internals, (
        f"The line carries the log record's own attributes {internals}: noise in every line. "
        f"The formatter's reserved_attrs replaces python-json-logger's list of attributes "
        f"left out (RESERVED_ATTRS, in pythonjsonlogger.core): add to it, do not replace it. "
        f"{WHERE}"
    )
    assert (line["level"], line["logger"]) == ("INFO", "app.users"), (
        f"`level` should be INFO and `logger` app.users; got {line}. {WHERE}"
    )
    assert line["service"] == settings.app_name, (
        f"`service` should be settings.app_name ({settings.app_name!r}); got {line}. {WHERE}"
    )
    assert line["request_id"] == "req-in-progress", (
        f"`request_id` should be what request_id_var holds while the line is logged "
        f"('req-in-progress'); got {line['request_id']!r}. RequestIdFilter adds it. {WHERE}"
    )


async def test_a_line_outside_any_request_has_a_null_request_id(app, json_logs):
    with json_logs.capture() as logs:
        logging.getLogger("app.jobs").warning("nightly clean-up started")

    line = one_line(logs, "nightly clean-up started")
    assert "request_id" in line, (
        f"A line outside any request should still have `request_id` (null), so that every "
        f"line has the same shape; got {line}. {WHERE}"
    )
    assert line["request_id"] is None, f"Outside a request, request_id is null; got {line}."


async def test_a_request_id_passed_with_extra_is_kept(app, json_logs):
    token = request_id_var.set("the-context-s-id")
    try:
        with json_logs.capture() as logs:
            # As the 500 handler does: it knows the id, the context variable does not.
            logging.getLogger("app.jobs").warning(
                "job finished late", extra={"request_id": "the-caller-s-id"}
            )
    finally:
        request_id_var.reset(token)

    line = one_line(logs, "job finished late")
    assert line.get("request_id") == "the-caller-s-id", (
        f"A line logged with extra={{'request_id': 'the-caller-s-id'}} should keep that id; "
        f"RequestIdFilter overwrote it with {line.get('request_id')!r}. The 500 handler runs "
        f"after the context variable is put back and passes the id itself: fill the id in "
        f"only when the record has none. {WHERE}"
    )


async def test_extra_fields_become_members(app, json_logs):
    with json_logs.capture() as logs:
        logging.getLogger("app.sql").warning(
            "slow query", extra={"statement": "SELECT 1", "duration_ms": 250.5}
        )

    line = one_line(logs, "slow query")
    assert (line.get("statement"), line.get("duration_ms")) == ("SELECT 1", 250.5), (
        f"Fields passed with extra= should be members of the line, with their types "
        f"(statement 'SELECT 1', duration_ms 250.5); got {line}. {WHERE}"
    )


async def test_building_the_app_twice_keeps_one_handler(settings, json_logs):
    create_app(settings)
    create_app(settings)  # every test, and every uvicorn reload, builds an app again

    root = logging.getLogger()
    ours = [handler for handler in root.handlers if handler.get_name() == "app-json"]
    assert len(ours) == 1, (
        f"After create_app ran twice, the root logger should have one handler named "
        f"'app-json'; it has {len(ours)}, so every line would be written {len(ours)} times. "
        f"Remove the old one (found by its name) before adding the new one. {WHERE}"
    )
    pytest_handlers = [h for h in root.handlers if "_pytest" in type(h).__module__]
    assert pytest_handlers, (
        "configure_logging removed pytest's own capture handlers from the root logger: "
        f"remove only the handler named 'app-json'. {WHERE}"
    )
    with json_logs.capture() as logs:
        logging.getLogger("app.jobs").warning("written once")
    one_line(logs, "written once")


async def test_the_level_follows_the_settings(app_with, json_logs):
    async with app_with(log_level="WARNING"):
        with json_logs.capture() as logs:
            logging.getLogger("app.users").info("too chatty for production")
            logging.getLogger("app.users").warning("worth a look")

    messages = [line["message"] for line in logs.all()]
    assert messages == ["worth a look"], (
        f"With LOG_LEVEL=WARNING only warnings and above should be written; got {messages}. "
        f"Set the root logger's level from settings.log_level. {WHERE}"
    )


@pytest.fixture
def uvicorn_loggers():
    """uvicorn's loggers as uvicorn leaves them before it calls the factory: plain-text
    handlers of their own, no propagation. Put back as they were afterwards."""
    names = ("uvicorn", "uvicorn.error", "uvicorn.access")
    saved = {
        name: (
            list(logging.getLogger(name).handlers),
            logging.getLogger(name).propagate,
            logging.getLogger(name).disabled,
        )
        for name in names
    }
    plain_text = io.StringIO()
    for name in names:
        logger = logging.getLogger(name)
        logger.handlers = [logging.StreamHandler(plain_text)]
        logger.propagate = name == "uvicorn.error"  # uvicorn's own configuration
        logger.disabled = False
    logging.getLogger("uvicorn").setLevel(logging.INFO)
    logging.getLogger("uvicorn.access").setLevel(logging.INFO)
    yield plain_text
    for name, (handlers, propagate, disabled) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers, logger.propagate, logger.disabled = handlers, propagate, disabled


async def test_uvicorn_lines_go_through_the_json_handler_without_colours(
    settings, json_logs, uvicorn_loggers
):
    create_app(settings)  # as uvicorn does, after it configured its loggers
    with json_logs.capture() as logs:
        logging.getLogger("uvicorn.error").info(
            "Application startup complete.",
            extra={"color_message": "\x1b[32mApplication startup complete.\x1b[0m"},
        )

    lines = logs.with_message("Application startup complete.")
    assert [line.get("logger") for line in lines] == ["uvicorn.error"], (
        f"uvicorn's lines should be written once, as JSON, by our handler; it wrote "
        f"{logs.text[:300]!r}, and uvicorn's own handler wrote "
        f"{uvicorn_loggers.getvalue()[:300]!r}. Make the loggers 'uvicorn' and "
        f"'uvicorn.error' drop their own handlers and propagate to the root. {WHERE}"
    )
    assert not uvicorn_loggers.getvalue(), (
        f"uvicorn's own handler still wrote the line as plain text "
        f"({uvicorn_loggers.getvalue()!r}), so every line is written twice: remove the "
        f"handlers of 'uvicorn' and 'uvicorn.error'. {WHERE}"
    )
    assert "color_message" not in lines[0], (
        f"uvicorn adds an ANSI-coloured copy of its messages as `color_message`; it reached "
        f"the JSON line ({lines[0].get('color_message')!r}). Name it among the formatter's "
        f"reserved attributes (the ones never written). {WHERE}"
    )


async def test_one_access_line_per_request_from_the_middleware(
    app, client, json_logs, uvicorn_loggers
):
    create_app(app.state.settings)  # uvicorn's loggers were set up again: as in a real server

    async def one_item(item_id: int) -> dict[str, int]:
        return {"item": item_id}

    app.add_api_route("/test-only/items/{item_id}", one_item)
    with json_logs.capture() as logs:
        response = await client.get("/test-only/items/7")
        logging.getLogger("uvicorn.access").info(
            '%s - "%s %s HTTP/%s" %d', "127.0.0.1:50000", "GET", "/test-only/items/7", "1.1", 200
        )

    access = logs.with_message("request")
    assert len(access) == 1, (
        f"AccessLogMiddleware writes one 'request' line per request at INFO, through your "
        f"handler; it wrote {logs.text[:400]!r}. The root level should let INFO through. "
        f"{WHERE}"
    )
    line = access[0]
    missing = [member for member in ACCESS_MEMBERS if member not in line]
    assert not missing, (
        f"The access line should carry the middleware's fields {list(ACCESS_MEMBERS)} as "
        f"members; {missing} missing in {line}. Fields passed with extra= are written as "
        f"they are. {WHERE}"
    )
    assert (line["route"], line["status"]) == ("/test-only/items/{item_id}", 200), (
        f"The access line should name the route template and the status; got {line}."
    )
    assert line.get("request_id") == response.headers.get("x-request-id"), (
        f"The access line should carry the request's id "
        f"({response.headers.get('x-request-id')!r}); got {line.get('request_id')!r}. {WHERE}"
    )
    uvicorn_access = [line for line in logs.all() if line.get("logger") == "uvicorn.access"]
    written = str(uvicorn_access or uvicorn_loggers.getvalue())
    assert not written, (
        f"uvicorn's own access line was written too ({written[:160]}...): "
        f"every request would be logged twice, once without its route template and request "
        f"id. Turn the 'uvicorn.access' logger off; AccessLogMiddleware replaces it. {WHERE}"
    )
