"""Running a chapter's check: its tests in a pytest process of their own, read back per exercise.

Every chapter has its own `app` package, so its tests never share a process with another
chapter's. The parent resolves PostgreSQL and Redis once and hands their URLs down by
environment, so an embedded server is started once and shared by every run.

`run_check()` is the one entry point. A chapter of kind "write-tests" (the learner writes the
tests) names a checker module in the manifest; that module's `check(request)` replaces the
default and returns the same `CheckResult`.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import localservices as services
from workshop.manifest import Chapter, Exercise, WorkedSection

CHAPTER_PYTEST_CONFIG = Path(__file__).with_name("chapter_pytest.ini")
# How a test may fail on a starter: an assertion, or pytest.fail() (which raises `Failed`).
ASSERTION_EXCEPTIONS = frozenset({"AssertionError", "Failed"})
NO_TESTS_COLLECTED = 5  # pytest.ExitCode.NO_TESTS_COLLECTED, without importing pytest here
DETAILS_PLUGIN = "workshop.check_details"
# Plugins of this environment that no chapter's tests use: not loading them saves a second.
UNUSED_PLUGINS = ("locust", "hypothesispytest", "schemathesis", "anyio", "platformdirs")


@dataclass(frozen=True)
class CheckRequest:
    chapter: Chapter
    workdir: Path  # a code tree with the chapter's tests/: the workspace or a temporary copy
    env: dict[str, str]  # the environment for the test process (service URLs included)
    pytest_args: tuple[str, ...] = ()  # extra arguments from the learner: `-- -k race`


@dataclass(frozen=True)
class Outcome:
    nodeid: str
    exercise: str | None
    outcome: str  # passed, failed, error (in setup or teardown), skipped
    message: str = ""
    exception: str = ""
    # From workshop.check_details, for a failing test: pytest's traceback, the learner's frame
    # ({file, line, function, code, exception}), WARNING+ log lines, unawaited coroutines.
    traceback: str = ""
    location: dict[str, Any] | None = None
    logs: tuple[str, ...] = ()
    unawaited: tuple[str, ...] = ()

    @property
    def is_assertion(self) -> bool:
        return self.outcome == "failed" and self.exception in ASSERTION_EXCEPTIONS


class _TestsVerdict:
    """What a group of tests (an exercise's, a worked section's) says, from its outcomes."""

    tests: list[Outcome]

    @property
    def status(self) -> str:
        if not self.tests:
            return "not run"
        if all(test.outcome in ("passed", "skipped") for test in self.tests):
            return "passed"
        return "failing"

    @property
    def failures(self) -> list[Outcome]:
        return [test for test in self.tests if test.outcome in ("failed", "error")]


@dataclass
class ExerciseResult(_TestsVerdict):
    exercise: Exercise
    tests: list[Outcome] = field(default_factory=list)


@dataclass
class WorkedResult(_TestsVerdict):
    """A worked section's tests in one check: given code, so they carry no exercise marker
    and are found by their files."""

    section: WorkedSection
    tests: list[Outcome] = field(default_factory=list)


@dataclass
class CheckResult:
    chapter: Chapter
    exercises: list[ExerciseResult]
    untagged: list[Outcome] = field(default_factory=list)  # tests without an exercise marker
    stray: list[Outcome] = field(default_factory=list)  # marked with another chapter's id
    collection_errors: list[dict[str, Any]] = field(default_factory=list)
    environment_error: str | None = None
    services_line: str | None = None
    notes: list[str] = field(default_factory=list)  # what the tests could not try here
    exit_status: int = 0
    output: str = ""  # pytest's own output, shown when it could not run the tests
    selection: tuple[str, ...] = ()  # the learner's extra pytest arguments: a partial check
    unawaited: tuple[str, ...] = ()  # never-awaited coroutines found outside any one test
    workdir: Path | None = None  # the code tree that was checked

    def source_of(self, exercise: Exercise) -> str:
        """The text of an exercise's files in the checked tree ("" for a missing file)."""
        if self.workdir is None:
            return ""
        texts = []
        for relative in exercise.files:
            try:
                texts.append((self.workdir / relative).read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError):
                continue
        return "\n".join(texts)

    @property
    def ran(self) -> bool:
        return bool(any(result.tests for result in self.exercises) or self.untagged)

    @property
    def selected_nothing(self) -> bool:
        """The learner's `-k` (or other selection) matched no test: nothing was checked."""
        return (
            self.exit_status == NO_TESTS_COLLECTED
            and not self.ran
            and not self.collection_errors
            and not self.environment_error
        )

    @property
    def crashed(self) -> bool:
        """pytest stopped without running the tests (and not for a missing service)."""
        return (
            not self.ran
            and not self.selected_nothing
            and not self.collection_errors
            and not self.environment_error
        )

    @property
    def checked(self) -> list[ExerciseResult]:
        """The exercises whose tests ran: all of them, unless the learner selected some."""
        return [result for result in self.exercises if result.status != "not run"]

    @property
    def passed(self) -> bool:
        return (
            not self.environment_error
            and not self.collection_errors
            and not self.crashed
            and not self.selected_nothing
            # A selection (`-- -k race`) passes when what it ran passes.
            and all(
                result.status == "passed"
                for result in (self.checked if self.selection else self.exercises)
            )
            and all(test.outcome in ("passed", "skipped") for test in self.untagged + self.stray)
        )

    @property
    def worked(self) -> list[WorkedResult]:
        """Each worked section of the chapter with the untagged tests of its files."""
        return [
            WorkedResult(
                section,
                [test for test in self.untagged if test.nodeid.split("::")[0] in section.tests],
            )
            for section in self.chapter.worked
        ]

    def result_of(self, exercise_id: str) -> ExerciseResult:
        return next(result for result in self.exercises if result.exercise.id == exercise_id)


def run_check(request: CheckRequest) -> CheckResult:
    """Check a chapter's code tree: the chapter's own tests, or its kind's checker."""
    if request.chapter.kind == "write-tests":
        checker = importlib.import_module(str(request.chapter.checker))
        result: CheckResult = checker.check(request)
    else:
        result = run_chapter_tests(request)
    result.workdir = request.workdir
    result.selection = request.pytest_args
    return result


def run_chapter_tests(request: CheckRequest) -> CheckResult:
    """Run the chapter's tests in a fresh pytest process and read its JSON reports."""
    workdir = request.workdir.resolve()
    with tempfile.TemporaryDirectory(prefix="workshop-check-") as scratch:
        report_path = Path(scratch) / "report.json"
        details_path = Path(scratch) / "details.json"
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-c",
            str(CHAPTER_PYTEST_CONFIG),
            "--rootdir",
            str(workdir),
            "--workshop-report",
            str(report_path),
            "-p",
            DETAILS_PLUGIN,
            "--workshop-details",
            str(details_path),
            "-q",
            "--no-header",
            # One exercise's broken test file must not hide the others' results.
            "--continue-on-collection-errors",
            *disabled_plugins(),
            *request.pytest_args,
        ]
        env = dict(request.env)
        # The chapter's own `app` comes first, whatever the caller's PYTHONPATH says.
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(workdir), env.get("PYTHONPATH")]))
        completed = subprocess.run(
            command, cwd=workdir, env=env, capture_output=True, text=True, check=False
        )
        report = _read_json(report_path)
        details = _read_json(details_path)
    if "No module named pytest" in completed.stderr:
        report["environment_error"] = "pytest is not installed here: run `uv sync`."
    return _result_from_report(
        request.chapter, report, completed.returncode, completed.stdout + completed.stderr, details
    )


def disabled_plugins() -> list[str]:
    return [argument for plugin in UNUSED_PLUGINS for argument in ("-p", f"no:{plugin}")]


def _read_json(path: Path) -> dict[str, Any]:
    try:
        document: dict[str, Any] = json.loads(path.read_text())
        return document
    except (OSError, ValueError):
        return {}


def outcomes_from_report(
    report: dict[str, Any], details: dict[str, Any] | None = None
) -> list[Outcome]:
    """One Outcome per test: a test whose teardown also failed is still one test."""
    details = details or {}
    merged: dict[str, Outcome] = {}
    for entry in report.get("tests", []):
        extra = details.get(entry["nodeid"], {})
        outcome = Outcome(
            nodeid=entry["nodeid"],
            exercise=entry.get("exercise"),
            outcome=entry["outcome"],
            message=entry.get("message", ""),
            exception=entry.get("exception", ""),
            traceback=extra.get("traceback", ""),
            location=extra.get("location"),
            logs=tuple(extra.get("logs", ())),
            unawaited=tuple(extra.get("unawaited", ())),
        )
        earlier = merged.get(outcome.nodeid)
        if earlier is None or _worse(outcome, earlier):
            merged[outcome.nodeid] = outcome
    return list(merged.values())


def _worse(new: Outcome, old: Outcome) -> bool:
    """A later phase replaces an earlier one only when it failed and the earlier one did not
    (a test that passed, then failed its teardown); the first failure is the one to read."""
    failures = ("failed", "error")
    return new.outcome in failures and old.outcome not in failures


def _result_from_report(
    chapter: Chapter,
    report: dict[str, Any],
    exit_status: int,
    output: str,
    details: dict[str, Any] | None = None,
) -> CheckResult:
    results = {exercise.id: ExerciseResult(exercise) for exercise in chapter.exercises}
    untagged: list[Outcome] = []
    stray: list[Outcome] = []
    for outcome in outcomes_from_report(report, details):
        if outcome.exercise is None:
            untagged.append(outcome)
        elif outcome.exercise in results:
            results[outcome.exercise].tests.append(outcome)
        else:
            stray.append(outcome)
    unawaited = tuple((details or {}).get("(session)", {}).get("unawaited", ()))
    return CheckResult(
        chapter=chapter,
        exercises=list(results.values()),
        untagged=untagged,
        stray=stray,
        collection_errors=report.get("collection_errors", []),
        environment_error=report.get("environment_error"),
        services_line=report.get("services"),
        notes=report.get("notes", []),
        exit_status=exit_status,
        output=output,
        unawaited=unawaited,
    )


# --- services, resolved once in the parent ---------------------------------------------------


def resolve_services(names: tuple[str, ...]) -> list[services.Service]:
    """Find the servers a chapter needs; raises ServiceUnavailable with the fix."""
    finders = {"postgres": services.find_postgres, "redis": services.find_redis}
    return [finders[name]() for name in names]


def service_environment(found: list[services.Service]) -> dict[str, str]:
    """The process environment plus the resolved URLs, so child processes reuse them."""
    env = dict(os.environ)
    for service in found:
        variable = (
            services.POSTGRES_URL_ENV if service.name == "PostgreSQL" else services.REDIS_URL_ENV
        )
        env[variable] = service.url
        env[variable + services.SOURCE_ENV_SUFFIX] = service.source
    return env
