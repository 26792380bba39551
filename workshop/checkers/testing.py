"""The check of chapter 06, where the learner writes the tests (`kind = "write-tests"`).

A test suite is good when it passes on a working service and fails on a broken one. So:

1. The learner's tests, with the workshop's fixture checks beside them (testing_probes.py),
   run against the correct service: the solution's code tree with the learner's `tests/`.
   Every test must pass there; one that fails cannot tell a broken service from a good one.
2. Each planted fault (from the chapter's faults file, which the manifest names; faults.py
   reads and plants it) is a copy of that tree with the fault planted. The learner's tests
   that passed in step 1 run against it in a pytest process of its own (so a database and a
   Redis namespace of its own, from the plugin), several processes at a time, each stopping
   at its first failing test: one failure is enough to say "caught".
3. Per exercise, the report lists the learner's tests that fail on the correct service first,
   then every fault that survived, named by what the service did wrong and how a test would
   notice, never by the fault's code.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from workshop.checkers.faults import Fault, FaultDoesNotApply, plant, planted_faults
from workshop.checkers.pytest_runs import PlannedRun, PytestRun, run_all
from workshop.checking import (
    ASSERTION_EXCEPTIONS,
    CheckRequest,
    CheckResult,
    ExerciseResult,
    Outcome,
)
from workshop.contract import code_files, copy_tree
from workshop.manifest import Chapter, Exercise, load_manifest

PROBE_SOURCE = Path(__file__).with_name("testing_probes.py")
PROBE_FILE = "tests/test_workshop_fixture_checks.py"
FIXTURES_EXERCISE = "testing.fixtures"
WORKERS_ENV = "WORKSHOP_CHECK_WORKERS"  # faulty services checked at a time (default: CPUs)
# A test of the learner's that hangs on the correct service (a Barrier that never opens) is
# stopped well before the chapters' two minutes: waiting longer teaches nothing.
LEARNER_TEST_TIMEOUT_SECONDS = 30
# Against a faulty service a test may hang where it would fail: give up sooner than usual. (The
# faulty services run several at a time, so a test is slower there than alone.)
VARIANT_TEST_TIMEOUT_SECONDS = 60
FAILED = ("failed", "error")


@dataclass(frozen=True)
class Verdict:
    """How the learner's tests fared against one faulty service."""

    fault: Fault
    caught: bool
    broken_run: str | None = None  # why the tests could not run against it at all
    environment_error: str | None = None  # a service went missing meanwhile


def check(request: CheckRequest) -> CheckResult:
    chapter = request.chapter
    with tempfile.TemporaryDirectory(prefix="workshop-check-06-") as scratch:
        correct = Path(scratch) / "correct"
        _build_tree(correct, request)
        shutil.copyfile(PROBE_SOURCE, correct / PROBE_FILE)
        arguments = ("-o", f"timeout={LEARNER_TEST_TIMEOUT_SECONDS}", *request.pytest_args)
        [baseline] = run_all([PlannedRun(correct, arguments, details=True)], request.env, workers=1)
        _point_at_the_learners_files(baseline, correct, request.workdir)
        if baseline.environment_error or baseline.crashed:
            return _unfinished(chapter, baseline)
        learner_tests = [test for test in baseline.outcomes if _file_of(test) != PROBE_FILE]
        passing = [test.nodeid for test in learner_tests if test.outcome == "passed"]
        (correct / PROBE_FILE).unlink()
        # A selection (`-- -k cache`) checks only the exercises whose tests it ran.
        selected = (
            {
                exercise
                for test in baseline.outcomes
                if (exercise := _exercise_of_file(chapter, test.nodeid)) is not None
            }
            if request.pytest_args
            else None
        )
        faults = [f for f in planted_faults(chapter) if selected is None or f.exercise in selected]
        verdicts = _try_faults(Path(scratch), request, passing, faults)
    if broken := next((v for v in verdicts if v.environment_error), None):
        baseline.environment_error = broken.environment_error
        return _unfinished(chapter, baseline)
    return _result(chapter, baseline, verdicts, selected, request.workdir / "tests")


def _point_at_the_learners_files(run: PytestRun, scratch_tree: Path, workdir: Path) -> None:
    """Errors name the scratch copy's files; the learner knows them at their own path."""
    run.output = run.output.replace(str(scratch_tree), str(workdir))
    for error in run.collection_errors:
        error["message"] = error["message"].replace(str(scratch_tree), str(workdir))
    run.outcomes = [
        replace(test, traceback=test.traceback.replace(str(scratch_tree), str(workdir)))
        for test in run.outcomes
    ]


def _unfinished(chapter: Chapter, run: PytestRun) -> CheckResult:
    """A run that could not test anything: a service is missing, or pytest could not start."""
    return CheckResult(
        chapter=chapter,
        exercises=[ExerciseResult(exercise) for exercise in chapter.exercises],
        collection_errors=run.collection_errors,
        environment_error=run.environment_error,
        services_line=run.services_line,
        exit_status=run.exit_status,
        output=run.output,
    )


# --- the code trees ---------------------------------------------------------------------------


def _correct_service(request: CheckRequest) -> Path:
    """The solution's code tree, the correct service (the learner's own copy when it is absent)."""
    solution = load_manifest().root / request.chapter.solution_directory
    return solution if (solution / "app").is_dir() else request.workdir


def _build_tree(destination: Path, request: CheckRequest) -> None:
    """The correct service's code with the learner's tests/ (and nothing else of theirs)."""
    for relative, content in code_files(_correct_service(request)).items():
        if relative.split("/", 1)[0] == "tests":
            continue
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    learner_tests = request.workdir / "tests"
    if learner_tests.is_dir():
        copy_tree(learner_tests, destination / "tests")
    else:
        (destination / "tests").mkdir()


# --- the faulty services ----------------------------------------------------------------------


def worker_count() -> int:
    configured = os.environ.get(WORKERS_ENV, "")
    return max(1, int(configured)) if configured.isdigit() else max(2, os.cpu_count() or 2)


def _try_faults(
    scratch: Path, request: CheckRequest, passing: list[str], faults: list[Fault]
) -> list[Verdict]:
    if not passing:  # nothing passes on the correct service: nothing can catch a fault
        return [Verdict(fault, caught=False) for fault in faults]
    planned, unplanted = [], {}
    for fault in faults:
        tree = scratch / "faults" / fault.id
        copy_tree(scratch / "correct", tree)
        try:
            plant(fault, tree)
        except FaultDoesNotApply as error:  # the solution changed under the fault: say so
            unplanted[fault.id] = str(error)
            continue
        # The fault's own exercise first: the test most likely to catch it stops the run soon.
        own = [n for n in passing if _exercise_of_file(request.chapter, n) == fault.exercise]
        ordered = own + [nodeid for nodeid in passing if nodeid not in own]
        arguments = ("-x", "-o", f"timeout={VARIANT_TEST_TIMEOUT_SECONDS}", *ordered)
        planned.append(PlannedRun(tree, arguments))
    runs = iter(run_all(planned, request.env, workers=worker_count()))
    return [
        Verdict(fault, caught=False, broken_run=unplanted[fault.id])
        if fault.id in unplanted
        else _judge_run(fault, next(runs))
        for fault in faults
    ]


def _judge_run(fault: Fault, run: PytestRun) -> Verdict:
    if run.environment_error:
        return Verdict(fault, caught=False, environment_error=run.environment_error)
    if run.crashed:
        tail = "\n".join(run.output.strip().splitlines()[-6:])
        return Verdict(fault, caught=False, broken_run=tail)
    return Verdict(fault, caught=any(test.outcome in FAILED for test in run.outcomes))


# --- the result, per exercise -----------------------------------------------------------------


def _file_of(test: Outcome) -> str:
    return test.nodeid.split("::", 1)[0]


def _exercise_of_file(chapter: Chapter, nodeid: str) -> str | None:
    path = nodeid.split("::", 1)[0]
    if path == PROBE_FILE:
        return FIXTURES_EXERCISE
    return next((ex.id for ex in chapter.exercises if path in ex.tests), None)


def _result(
    chapter: Chapter,
    baseline: PytestRun,
    verdicts: list[Verdict],
    selected: set[str] | None = None,
    tests_directory: Path | None = None,
) -> CheckResult:
    by_exercise: dict[str | None, list[Outcome]] = {}
    for test in baseline.outcomes:
        by_exercise.setdefault(_exercise_of_file(chapter, test.nodeid), []).append(test)
    exercises = []
    for exercise in chapter.exercises:
        own_tests = by_exercise.get(exercise.id, [])
        if selected is not None and exercise.id not in selected:
            exercises.append(ExerciseResult(exercise))  # deselected: not run, not "no tests"
            continue
        unwritten = [test for test in own_tests if _is_todo(test)]
        outcomes = [_judged(test, exercise) for test in own_tests if test not in unwritten]
        if unwritten:
            outcomes.append(_not_written(exercise, unwritten))
        elif exercise.id != FIXTURES_EXERCISE and not own_tests:
            broken = {error["nodeid"] for error in baseline.collection_errors}
            outcomes.append(_no_tests(exercise, imports=exercise.tests[0] not in broken))
        # Tests that fail on the correct service come first: they must be fixed before any
        # fault can be caught. Then the faults nobody noticed.
        outcomes.sort(key=lambda outcome: outcome.outcome == "passed")
        # A written test that did not pass never ran against a faulty service: the faults it
        # might catch are not tried yet, rather than unnoticed.
        untried = [test for test in own_tests if test not in unwritten and test.outcome != "passed"]
        outcomes += sorted(
            (_verdict(v, untried) for v in verdicts if v.fault.exercise == exercise.id),
            key=lambda outcome: outcome.outcome == "passed",
        )
        exercises.append(ExerciseResult(exercise, outcomes))
    untagged = [_judged(test, None) for test in by_exercise.get(None, [])]
    return CheckResult(
        chapter=chapter,
        exercises=exercises,
        untagged=untagged,
        notes=[_tally(chapter, baseline, verdicts, tests_directory)],
        collection_errors=baseline.collection_errors,
        services_line=baseline.services_line,
        exit_status=baseline.exit_status,
        output=baseline.output,
    )


def _tally(
    chapter: Chapter,
    baseline: PytestRun,
    verdicts: list[Verdict],
    tests_directory: Path | None = None,
) -> str:
    """Counts that hold still while the learner works: the stubs do not vanish from the total
    as they are written, and every planted fault counts whether or not a test could run. The
    tests are counted in the learner's files, so a selection (`-- -k cache`) counts them all."""
    if tests_directory is not None:
        written, total = _tests_in_files(tests_directory)
    else:
        learner_tests = [test for test in baseline.outcomes if _file_of(test) != PROBE_FILE]
        written = sum(not _is_todo(test) for test in learner_tests)
        total = len(learner_tests)
    asked = max(_tests_asked_for(chapter), total)
    caught = sum(verdict.caught for verdict in verdicts)
    per_exercise = []
    for exercise in chapter.exercises:
        own = [verdict for verdict in verdicts if verdict.fault.exercise == exercise.id]
        if own:
            found = sum(verdict.caught for verdict in own)
            per_exercise.append(f"{exercise.name} {found}/{len(own)}")
    return (
        f"Your suite: tests written {written} of {asked}, planted faults "
        f"caught {caught} of {len(verdicts)} ({', '.join(per_exercise)})."
    )


def _tests_asked_for(chapter: Chapter) -> int:
    """How many tests the starter's stubs ask for: as many as the solution's suite has."""
    solution_tests = load_manifest().root / chapter.solution_directory / "tests"
    return sum(
        line.startswith(("def test_", "async def test_"))
        for path in solution_tests.glob("test_*.py")
        for line in path.read_text(encoding="utf-8").splitlines()
    )


TEST_FILES = ("test_*.py", "*_test.py")  # pytest's default, which the chapters keep
_TEST_DEFINITION = re.compile(r"^\s*(?:async\s+)?def\s+(\w+)", re.MULTILINE)
_TODO_STUB = re.compile(r"""\bfail\(\s*f?["']TODO""")  # pytest.fail("TODO(...)")


def _tests_in_files(tests_directory: Path) -> tuple[int, int]:
    """(written, total): the test functions of the learner's test files, a test being unwritten
    while its body still calls the starter's `pytest.fail("TODO...")`."""
    written = total = 0
    paths = sorted({path for pattern in TEST_FILES for path in tests_directory.rglob(pattern)})
    for path in paths:
        source = path.read_text(encoding="utf-8", errors="replace")
        for body in _test_bodies(source):
            total += 1
            written += not _TODO_STUB.search(body)
    return written, total


def _test_bodies(source: str) -> list[str]:
    """The source of each test function (`test_*`, top level or in a class)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # pytest reports the file as broken; count its tests by their lines
        starts = list(_TEST_DEFINITION.finditer(source))
        ends = [match.start() for match in starts[1:]] + [len(source)]
        return [
            source[match.start() : end]
            for match, end in zip(starts, ends, strict=True)
            if match.group(1).startswith("test")
        ]
    functions = [
        node
        for statement in tree.body
        for node in (statement.body if isinstance(statement, ast.ClassDef) else [statement])
    ]
    return [
        ast.get_source_segment(source, node) or ""
        for node in functions
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")
    ]


def _name(test: Outcome) -> str:
    return test.nodeid.split("::", 1)[-1]


def _judged(test: Outcome, exercise: Exercise | None) -> Outcome:
    """A learner's test (or a fixture check) as it ran on the correct service."""
    exercise_id = exercise.id if exercise else None
    probe = _file_of(test) == PROBE_FILE
    nodeid = f"fixture check {_name(test)}" if probe else test.nodeid
    if test.outcome == "passed":
        return Outcome(nodeid=nodeid, exercise=exercise_id, outcome="passed")
    if test.outcome == "skipped":
        message = f"{_name(test)} is skipped: a skipped test catches nothing. Remove the skip."
    elif probe:
        message = _their_words(test)
    else:
        # Their own words on the first line: a bare `assert a == b` is all a learner's test
        # says, and the report drops lines that start with "assert" (pytest's detail).
        first, *rest = _their_words(test).splitlines()
        compared = _compared(test.message)
        if compared and not first.startswith("assert "):
            first += f" (what it compared: {compared})"  # the report drops pytest's lines
        message = "\n".join(
            [
                f"{_name(test)} fails on the correct service, so it cannot tell a broken one "
                f"from it; make it pass first. It failed on: {first}",
                *_advice(test),
                *rest,
            ]
        )
    # The learner's work is not done yet: an assertion, whatever their test raised.
    return Outcome(
        nodeid,
        exercise_id,
        "failed",
        message,
        "AssertionError",
        traceback=test.traceback,
        logs=test.logs,
        unawaited=test.unawaited,
    )


TIMED_OUT = "from pytest-timeout"  # pytest-timeout's "Timeout (>30.0s) from pytest-timeout."
# The frames of httpx's in-memory transport, through which an app's exception reaches the test.
ASGI_TRANSPORT_FRAME = re.compile(r"httpx[/\\]_transports[/\\]asgi\.py")


def _advice(test: Outcome) -> list[str]:
    """What to do about a learner's test that failed on the correct service, when its failure
    has a usual cause: it hung, or an exception of the app reached it."""
    if TIMED_OUT in test.message:
        return [
            "It waited until the time ran out. A Barrier whose parties outnumber the requests "
            "never opens: use one n for Barrier(n) and range(n), and give barrier.wait() a "
            "timeout."
        ]
    if test.outcome == "failed" and _app_exception_reached_the_test(test):
        return [
            "The app's exception reached your test: send the request through "
            "AsyncClient(transport=ASGITransport(app=app, raise_app_exceptions=False))."
        ]
    return []


def _app_exception_reached_the_test(test: Outcome) -> bool:
    """Not an assertion of the test's: an exception that came out of the app, through httpx's
    ASGITransport (which re-raises what the app raised unless told not to)."""
    return test.exception not in ASSERTION_EXCEPTIONS and bool(
        ASGI_TRANSPORT_FRAME.search(test.traceback)
    )


def _their_words(test: Outcome) -> str:
    message = test.message.strip().removeprefix("Failed: ")  # what pytest.fail() said
    if "fixture '" in message and "' not found" in message:
        missing = message.split("fixture '", 1)[1].split("'", 1)[0]
        return f"The fixture `{missing}` does not exist: define it in tests/conftest.py."
    return message or f"{test.outcome} ({test.exception})"


# pytest's explanation lines worth keeping: where two sides differ, both of them.
_DIFF_LINES = ("At index", "Left contains", "Right contains", "Differing items")


def _compared(message: str) -> str:
    """Both sides of the failed comparison, from pytest's `assert left == right` lines."""
    lines = message.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("assert "):
            nearby = (text.strip() for text in lines[index + 1 : index + 6])
            return "; ".join(
                [line.removeprefix("assert ")]
                + [text for text in nearby if text.startswith(_DIFF_LINES)]
            )
    return ""


def _is_todo(test: Outcome) -> bool:
    """Still the starter's `pytest.fail("TODO(...)")`, in the test or in a fixture it uses."""
    return test.outcome in FAILED and _their_words(test).startswith("TODO(")


def _not_written(exercise: Exercise, tests: list[Outcome]) -> Outcome:
    first_todo = _their_words(tests[0])
    if exercise.id == FIXTURES_EXERCISE:
        message = (
            f"The fixtures are not finished, so {len(tests)} fixture checks cannot run yet. "
            f"{first_todo}"
        )
        nodeid = "tests/conftest.py"
    else:
        nodeid = _file_of(tests[0])
        which = (
            f"{_name(tests[0])} is" if len(tests) == 1 else f"{len(tests)} tests of {nodeid} are"
        )
        message = (
            f'{which} not written yet: replace each `pytest.fail("TODO...")` with the test '
            f"its docstring describes, starting with {_name(tests[0])}."
        )
    return Outcome(nodeid, exercise.id, "failed", message, "AssertionError")


def _no_tests(exercise: Exercise, *, imports: bool) -> Outcome:
    path = exercise.tests[0]
    if imports:
        message = f"{path} has no tests yet: write them there (exercise {exercise.id})."
    else:
        message = f"{path} does not import (the error is above): fix it, and its tests run."
    return Outcome(path, exercise.id, "failed", message, "AssertionError")


def _verdict(verdict: Verdict, untried: list[Outcome] | None = None) -> Outcome:
    fault = verdict.fault
    nodeid = f"planted fault {fault.id}"
    if verdict.broken_run:
        message = (
            "The check could not try your tests against this faulty service (a bug of the "
            "workshop, not of your tests):\n"
        )
        return Outcome(nodeid, fault.exercise, "error", message + verdict.broken_run, "Crash")
    if verdict.caught:
        return Outcome(nodeid, fault.exercise, "passed")
    if untried:
        names = ", ".join(_name(test) for test in untried)
        which = f"{names} does" if len(untried) == 1 else f"{names} do"
        message = (
            f"Not tried yet: {which} not pass on the correct service, so the check could not "
            f"try it against a service where {fault.unnoticed}. Make it pass first.\n"
            f"To catch it: {fault.catch_it}."
        )
    else:
        message = f"Unnoticed: {fault.unnoticed}.\nTo catch it: {fault.catch_it}."
    return Outcome(nodeid, fault.exercise, "failed", message, "AssertionError")
