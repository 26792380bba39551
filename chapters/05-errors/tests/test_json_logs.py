"""Exercise errors.json_logs: one JSON object per log line, each with its request id."""

import io
import logging

import pytest

from app.main import create_app

pytestmark = pytest.mark.exercise("errors.json_logs")

WHERE = "Finish configure_logging and RequestIdFilter in app/logs.py (exercise errors.json_logs)."
MEMBERS = ("time", "level", "logger", "message", "service", "request_id")


@pytest.fixture
def logging_route(app) -> str:
    """A route that logs one line, as any code of the service would."""

    async def log_something() -> dict[str, str]:
        logging.getLogger("app.users").info("user looked up")
        return {"status": "ok"}

    app.add_api_route("/test-only/log", log_something)
    return "/test-only/log"


async def test_a_line_logged_in_a_request_is_json_with_its_request_id(
    client, logging_route, json_logs, settings
):
    with json_logs.capture() as logs:
        response = await client.get(logging_route)

    lines = logs.with_message("user looked up")
    assert len(lines) == 1, (
        f"logger.info('user looked up') in a route should write one JSON line; the handler "
        f"wrote {logs.text!r}. The root level should follow settings.log_level (INFO). {WHERE}"
    )
    line = lines[0]
    missing = [member for member in MEMBERS if member not in line]
    assert not missing, (
        f"A JSON log line needs {list(MEMBERS)}; {missing} missing in {line}. Rename asctime, "
        f"levelname and name, and add service as a static field. {WHERE}"
    )
    assert (line["level"], line["logger"]) == ("INFO", "app.users"), (
        f"`level` should be INFO and `logger` app.users; got {line}."
    )
    assert line["service"] == settings.app_name, f"`service` should be settings.app_name: {line}"
    assert line["request_id"] == response.headers.get("x-request-id"), (
        f"`request_id` should be the id of the request the line belongs to "
        f"({response.headers.get('x-request-id')!r}); got {line['request_id']!r}. "
        f"RequestIdFilter reads it from request_id_var. {WHERE}"
    )


async def test_a_line_outside_any_request_has_a_null_request_id(app, json_logs):
    with json_logs.capture() as logs:
        logging.getLogger("app.jobs").warning("nightly clean-up started")

    lines = logs.with_message("nightly clean-up started")
    assert len(lines) == 1, f"One JSON line expected; the handler wrote {logs.text!r}. {WHERE}"
    assert "request_id" in lines[0], (
        f"Lines outside a request should still have `request_id` (null), so every line has "
        f"the same shape; got {lines[0]}. {WHERE}"
    )
    assert lines[0]["request_id"] is None, f"Outside a request, request_id is null: {lines[0]}"


async def test_building_the_app_twice_keeps_one_handler(settings, json_logs):
    create_app(settings)
    create_app(settings)  # every test, and every uvicorn reload, builds an app again

    root = logging.getLogger()
    ours = [handler for handler in root.handlers if handler.get_name() == "app-json"]
    assert len(ours) == 1, (
        f"After create_app ran twice the root logger should have one handler named 'app-json'; "
        f"it has {len(ours)}. Remove the old one (by name) before adding the new one, so lines "
        f"are not written twice. {WHERE}"
    )
    others = [h for h in root.handlers if h is not ours[0] and "_pytest" not in type(h).__module__]
    assert not others, (
        f"The root logger has other handlers besides 'app-json' ({others}): every line would "
        f"be written once per handler. {WHERE}"
    )
    with json_logs.capture() as logs:
        logging.getLogger("app.jobs").warning("written once")
    assert len(logs.with_message("written once")) == 1, f"Got {logs.text!r}. {WHERE}"


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


async def test_uvicorn_lines_go_through_the_json_handler(settings, json_logs):
    # uvicorn configures its loggers (own handlers, no propagation) before it calls the
    # factory; this does the same, then builds the app as uvicorn would.
    access = logging.getLogger("uvicorn.access")
    saved = (list(access.handlers), access.propagate)
    plain_text = io.StringIO()
    access.handlers = [logging.StreamHandler(plain_text)]
    access.propagate = False
    try:
        create_app(settings)
        with json_logs.capture() as logs:
            access.info('127.0.0.1:50000 - "GET /health/live HTTP/1.1" 200')
    finally:
        access.handlers, access.propagate = saved

    assert [line["logger"] for line in logs.all()] == ["uvicorn.access"], (
        f"uvicorn's access line should be written as JSON by our handler; it wrote "
        f"{logs.text!r}, and uvicorn's own handler wrote {plain_text.getvalue()!r}. Clear the "
        f"handlers of 'uvicorn', 'uvicorn.error' and 'uvicorn.access' and let them propagate. "
        f"{WHERE}"
    )
    assert not plain_text.getvalue(), (
        f"uvicorn's own handler still wrote the access line, as plain text "
        f"({plain_text.getvalue()!r}), so every line would be written twice. Clear the handlers "
        f"of 'uvicorn', 'uvicorn.error' and 'uvicorn.access' (handlers.clear()), as well as "
        f"letting them propagate. {WHERE}"
    )
