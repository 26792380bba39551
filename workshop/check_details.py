"""What a failing test leaves behind, for `workshop check`'s report (loaded with `-p` by it).

The workshop's main plugin reports each test's outcome and message. This one adds what a
learner needs when the message is not enough, per failing test (`--workshop-details PATH`):

- the traceback as pytest prints it (shown by `workshop check NN --tb`);
- where in the learner's own code (the last frame under the chapter's `app/`) an exception
  the test did not expect was raised, also when the app raised it behind a 500 answer that the
  test client swallowed (`ASGITransport(raise_app_exceptions=False)`);
- the log lines of level WARNING and above captured during the test;
- coroutines that were created and never awaited (`redis.aclose()` without `await`): Python
  warns about them, and the origin tracking turned on here says where they were created.
"""

from __future__ import annotations

import inspect
import json
import linecache
import logging
import sys
import traceback
import warnings
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

ORIGIN_DEPTH = 3  # frames kept of where a coroutine was created: the call and its callers
TRACEBACK_LINES = 200
LOG_LINES = 8
MIN_LOG_LEVEL = 30  # logging.WARNING

_DETAILS: dict[str, dict[str, Any]] = {}  # by test node id; one session per process
_APP_ERRORS: list[BaseException] = []  # raised by an ASGI app during the current test


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("workshop").addoption(
        "--workshop-details",
        metavar="PATH",
        default=None,
        help="write the details of failing tests as JSON (used by `workshop check`)",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--workshop-details"):
        sys.set_coroutine_origin_tracking_depth(ORIGIN_DEPTH)
        _record_app_exceptions()


def pytest_runtest_setup(item: pytest.Item) -> None:
    _APP_ERRORS.clear()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed:
        root = Path(str(item.config.rootpath))
        entry = _DETAILS.setdefault(item.nodeid, {})
        entry.setdefault("traceback", _trim(report.longreprtext))
        errors: list[BaseException] = [call.excinfo.value] if call.excinfo else []
        errors += list(_APP_ERRORS)
        errors += [
            record.exc_info[1]
            for record in _records(item)
            if record.exc_info and record.exc_info[1] is not None
        ]
        for error in errors:
            if location := learner_frame(error, root):
                entry.setdefault("location", location)
                break
        for message in _coroutines_in_locals(errors, root):
            unawaited = entry.setdefault("unawaited", [])
            if message not in unawaited:
                unawaited.append(message)
        if lines := _log_lines(item):
            entry["logs"] = lines
    return report


def pytest_warning_recorded(
    warning_message: warnings.WarningMessage, when: str, nodeid: str, location: object
) -> None:
    message = str(warning_message.message)
    if issubclass(warning_message.category, RuntimeWarning) and "was never awaited" in message:
        unawaited = _DETAILS.setdefault(nodeid or "(session)", {}).setdefault("unawaited", [])
        if message not in unawaited:
            unawaited.append(message)


def pytest_sessionfinish(session: pytest.Session) -> None:
    if path := session.config.getoption("--workshop-details"):
        Path(path).write_text(json.dumps(_DETAILS, indent=2))


# --- where in the learner's code --------------------------------------------------------------


def learner_frame(error: BaseException, root: Path) -> dict[str, Any] | None:
    """The last frame under `root/app/` of an exception (or of its causes), as a dict."""
    app_dir = (root / "app").resolve()
    tests_dir = (root / "tests").resolve()
    for exception in _chain(error):
        frames = traceback.extract_tb(exception.__traceback__)
        # Raised in the chapter's tests (a route planted to fail): the learner's code only
        # passed it on, so its frames would point at the wrong line.
        if frames and Path(frames[-1].filename).resolve().is_relative_to(tests_dir):
            continue
        for frame in reversed(frames):
            path = Path(frame.filename).resolve()
            if path.is_relative_to(app_dir):
                return {
                    "file": path.relative_to(root.resolve()).as_posix(),
                    "line": frame.lineno,
                    "function": frame.name,
                    "code": (frame.line or "").strip(),
                    "exception": f"{type(exception).__name__}: {exception}".strip(": "),
                }
    return None


def _chain(error: BaseException | None, seen: set[int] | None = None) -> Iterator[BaseException]:
    """The exception, then what it was raised from or during, then a group's members."""
    seen = seen if seen is not None else set()
    if error is None or id(error) in seen:
        return
    seen.add(id(error))
    yield error
    for member in getattr(error, "exceptions", ()):  # an ExceptionGroup from a task group
        yield from _chain(member, seen)
    yield from _chain(error.__cause__ or error.__context__, seen)


def _coroutines_in_locals(errors: list[BaseException], root: Path) -> list[str]:
    """Coroutines held by the learner's frames of an exception: a call not awaited, whose
    result then failed somewhere (`raw = redis.get(key)` handed to a JSON parser). Said in
    the words of Python's own warning, and closed so that it does not warn again later."""
    app_dir = (root / "app").resolve()
    messages = []
    for error in errors:
        for exception in _chain(error):
            for frame, _ in traceback.walk_tb(exception.__traceback__):
                if not Path(frame.f_code.co_filename).resolve().is_relative_to(app_dir):
                    continue
                for value in list(frame.f_locals.values()):
                    if inspect.iscoroutine(value) and value.cr_frame is not None:
                        messages.append(_unawaited_message(value))
                        value.close()
    return messages


def _unawaited_message(coroutine: Any) -> str:
    lines = [f"coroutine '{coroutine.cr_code.co_qualname}' was never awaited"]
    if origin := coroutine.cr_origin:
        lines.append("Coroutine created at (most recent call last)")
        for filename, lineno, function in reversed(origin):
            lines.append(f'  File "{filename}", line {lineno}, in {function}')
            lines.append(f"    {linecache.getline(filename, lineno).strip()}")
    return "\n".join(lines)


def _record_app_exceptions() -> None:
    """Keep what an app raised before httpx's test transport turned it into a plain 500."""
    try:
        from httpx import ASGITransport
    except ImportError:
        return
    original_init = ASGITransport.__init__

    def init(self: ASGITransport, app: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, app, *args, **kwargs)
        inner = self.app

        async def recording_app(scope: Any, receive: Any, send: Any) -> None:
            try:
                await inner(scope, receive, send)
            except Exception as error:
                _APP_ERRORS.append(error)
                raise

        self.app = recording_app

    ASGITransport.__init__ = init  # type: ignore[method-assign]  # recording, for checks only


# --- captured logs ----------------------------------------------------------------------------


def _records(item: pytest.Item) -> list[logging.LogRecord]:
    from _pytest.logging import caplog_records_key  # where the logging plugin keeps them

    by_phase = item.stash.get(caplog_records_key, {})
    return [record for phase in ("setup", "call", "teardown") for record in by_phase.get(phase, [])]


def _log_lines(item: pytest.Item) -> list[str]:
    lines = []
    for record in _records(item):
        if record.levelno < MIN_LOG_LEVEL:
            continue
        line = f"{record.levelname} {record.name}: {record.getMessage()}"
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            line += f" ({type(error).__name__}: {error})"
        lines.append(line)
    return lines[:LOG_LINES]


def _trim(text: str) -> str:
    lines = text.splitlines()
    if len(lines) <= TRACEBACK_LINES:
        return text
    return "\n".join(["...", *lines[-TRACEBACK_LINES:]])
