"""The pytest plugin, loaded in every run of this environment through the `pytest11` entry point.

It gives every test session:
- `database_url`: a PostgreSQL database of its own (SQLAlchemy asyncpg URL), dropped at the end;
- `redis_url` and `redis_namespace`: the Redis server and a key prefix of its own, emptied
  at the end, so that two runs on one machine never meet;
- the `exercise("chapter.name")` marker that ties a test to a manifest exercise;
- `--workshop-report PATH`: a JSON report per test, which `workshop check` turns into the
  learner's report;
- `workshop_note`: `workshop_note("...")` records one sentence the report shows beside the
  results, such as a check that could not be tried on this machine.

A missing service stops the session with one sentence that says how to start it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any, NoReturn

import pytest

import localservices as services

EXIT_SERVICES_UNAVAILABLE = 4  # pytest's "usage error": the environment, not the code

_RESULTS = pytest.StashKey[dict[str, Any]]()
_USED_SERVICES = pytest.StashKey[list[services.Service]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("workshop")
    group.addoption(
        "--workshop-report",
        metavar="PATH",
        default=None,
        help="write a JSON report of every test's outcome (used by `workshop check`)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "exercise(id): the manifest exercise that this test checks")
    config.stash[_RESULTS] = {
        "tests": [],
        "collection_errors": [],
        "services": None,
        "notes": [],
    }
    config.stash[_USED_SERVICES] = []


# --- services ------------------------------------------------------------------------------


def _announce(request: pytest.FixtureRequest, service: services.Service) -> None:
    used = request.config.stash[_USED_SERVICES]
    used.append(service)
    request.config.stash[_RESULTS]["services"] = services.announce(*used)


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """Say in one line which servers this run used (printed just above the summary line)."""
    if used := config.stash.get(_USED_SERVICES, None):
        terminalreporter.write_line(services.announce(*used))
    for note in config.stash[_RESULTS]["notes"]:
        terminalreporter.write_line(f"note: {note}")


@pytest.fixture
def workshop_note(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """`workshop_note("...")`: a sentence for the report, once however often it is said."""
    notes = request.config.stash[_RESULTS]["notes"]

    def note(text: str) -> None:
        if text not in notes:
            notes.append(text)

    return note


def _stop(request: pytest.FixtureRequest, error: services.ServiceUnavailable) -> NoReturn:
    results = request.config.stash[_RESULTS]
    results["environment_error"] = str(error)
    _write_report(request.config)
    pytest.exit(str(error), returncode=EXIT_SERVICES_UNAVAILABLE)


@pytest.fixture(scope="session")
def postgres_service(request: pytest.FixtureRequest) -> services.Service:
    """The PostgreSQL server of this run (environment, local port or embedded)."""
    try:
        service = services.find_postgres()
    except services.ServiceUnavailable as error:
        _stop(request, error)
    _announce(request, service)
    return service


@pytest.fixture(scope="session")
def redis_service(request: pytest.FixtureRequest) -> services.Service:
    """The Redis server of this run (environment, local port or embedded)."""
    try:
        service = services.find_redis()
    except services.ServiceUnavailable as error:
        _stop(request, error)
    _announce(request, service)
    return service


@pytest.fixture(scope="session")
def database_url(
    request: pytest.FixtureRequest, postgres_service: services.Service
) -> Iterator[str]:
    """A database of this session's own; yields its `postgresql+asyncpg://` URL."""
    with ExitStack() as cleanup:
        try:
            url = cleanup.enter_context(services.temporary_database(postgres_service.url))
        except services.ServiceUnavailable as error:  # the role may not create databases
            _stop(request, error)
        yield url


@pytest.fixture(scope="session")
def redis_url(redis_service: services.Service) -> str:
    return redis_service.url


@pytest.fixture(scope="session")
def redis_namespace(redis_service: services.Service) -> Iterator[str]:
    """A key prefix of this session's own; every key under it is deleted at the end."""
    prefix = services.new_namespace()
    yield prefix
    services.delete_namespace(redis_service.url, prefix)


# --- the report for `workshop check` -----------------------------------------------------------

_MESSAGE_LINES = 12


def _exercise_of(item: pytest.Item) -> str | None:
    marker = item.get_closest_marker("exercise")
    return str(marker.args[0]) if marker and marker.args else None


def _failure_message(call: pytest.CallInfo[None]) -> str:
    if call.excinfo is None:
        return ""
    error = call.excinfo.value
    text = str(error).strip() or call.excinfo.typename
    if not isinstance(error, AssertionError):
        text = f"{call.excinfo.typename}: {text}"
    return "\n".join(text.splitlines()[:_MESSAGE_LINES])


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    # One entry for the test's call, plus one for any setup or teardown that failed.
    if report.when == "call" or report.failed or report.skipped:
        outcome = "error" if report.failed and report.when != "call" else report.outcome
        item.config.stash[_RESULTS]["tests"].append(
            {
                "nodeid": item.nodeid,
                "exercise": _exercise_of(item),
                "when": report.when,
                "outcome": outcome,
                "message": _failure_message(call) if report.failed else "",
                # `workshop dev verify` tells an assertion from a crash by this name.
                "exception": call.excinfo.typename if report.failed and call.excinfo else "",
                "duration": round(report.duration, 3),
            }
        )
    return report


_COLLECTION_ERRORS: list[dict[str, str]] = []


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        lines = str(report.longrepr).splitlines()[-8:]
        _COLLECTION_ERRORS.append({"nodeid": report.nodeid, "message": "\n".join(lines)})


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    results = session.config.stash[_RESULTS]
    results["collection_errors"] = list(_COLLECTION_ERRORS)
    results["exitstatus"] = int(exitstatus)
    _write_report(session.config)


def _write_report(config: pytest.Config) -> None:
    path = config.getoption("--workshop-report")
    if not path:
        return
    stored: dict[str, Any] = config.stash[_RESULTS]
    results = {**stored, "finished_at": time.time()}
    Path(path).write_text(json.dumps(results, indent=2))
