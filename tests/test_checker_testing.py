"""Chapter 06's checker (workshop/checkers/): the planted faults and both directions of the check.

- every fault plants cleanly into the solution's code tree;
- the solution's suite catches every fault, with its own exercise's tests and no other's (a
  fault breaks one behaviour, so one good test catches it and a suite about something else
  does not);
- a suite that tests nothing (or only part of the service) leaves the faults unnoticed, and
  the report names each of them in the learner's words, never with the fault's code.
"""

import multiprocessing
import py_compile
import shutil
from pathlib import Path

import pytest

from workshop import checking, report
from workshop.checkers import testing
from workshop.checkers.faults import Edit, Fault, FaultDoesNotApply, plant, planted_faults
from workshop.checkers.pytest_runs import (
    PlannedRun,
    _read_back,
    _request,
    run_all,
    run_processes,
)
from workshop.checking import CheckRequest
from workshop.contract import code_files, copy_tree
from workshop.manifest import load_manifest

MANIFEST = load_manifest()
CHAPTER = MANIFEST.chapter("06")
SOLUTION = MANIFEST.root / CHAPTER.solution_directory
TEST_FILE_OF = {exercise.id: exercise.tests[0] for exercise in CHAPTER.exercises}
FAULTS = planted_faults(CHAPTER)  # from the faults file the manifest names


@pytest.fixture(scope="module")
def services_env() -> dict[str, str]:
    return checking.service_environment(checking.resolve_services(CHAPTER.services))


def code_tree(destination: Path) -> Path:
    """The correct service without its tests."""
    for relative, content in code_files(SOLUTION).items():
        if not relative.startswith("tests/"):
            (destination / relative).parent.mkdir(parents=True, exist_ok=True)
            (destination / relative).write_bytes(content)
    return destination


def learner_workdir(tmp_path: Path, test_files: list[str]) -> Path:
    """A learner's chapter directory whose tests/ holds these files of the solution's suite."""
    workdir = code_tree(tmp_path / "learner")
    (workdir / "tests").mkdir()
    for name in test_files:
        shutil.copyfile(SOLUTION / "tests" / name, workdir / "tests" / name)
    return workdir


def test_every_fault_plants_cleanly_into_the_solution(tmp_path):
    assert FAULTS, f"{CHAPTER.faults} lists no faults"
    assert len({fault.id for fault in FAULTS}) == len(FAULTS), "fault ids must be unique"
    exercise_ids = {exercise.id for exercise in CHAPTER.exercises}
    moved = []
    for fault in FAULTS:
        assert fault.exercise in exercise_ids, f"{fault.id} names an unknown exercise"
        tree = tmp_path / fault.id
        copy_tree(SOLUTION, tree)

        try:
            plant(fault, tree)
        except FaultDoesNotApply as error:  # the solution changed under the fault's anchor
            moved.append(str(error))
            continue

        changed = {
            path
            for path, content in code_files(tree).items()
            if code_files(SOLUTION).get(path) != content
        }
        assert changed == {edit.path for edit in fault.edits}, fault.id
        for path in changed:
            py_compile.compile(str(tree / path), doraise=True)
    assert not moved, (
        f"{len(moved)} planted faults no longer apply to {CHAPTER.solution_directory}: fix "
        f"their `old` text in {CHAPTER.faults}\n\n" + "\n\n".join(moved)
    )
    faulted = {fault.exercise for fault in FAULTS}
    assert faulted == exercise_ids - {testing.FIXTURES_EXERCISE}, "every exercise has faults"


def first_test_of(test_file: str) -> str:
    source = (SOLUTION / test_file).read_text()
    name = "test_" + source.split("\nasync def test_", 1)[1].split("(", 1)[0]
    return f"{test_file}::{name}"


@pytest.mark.slow  # one pytest run per planted fault
def test_each_fault_is_caught_by_its_own_exercise_and_spares_the_others(tmp_path, services_env):
    """Per fault, one run that stops at its first failure: first one test of every other
    exercise (they must pass: the fault breaks one behaviour, not the service), then the
    fault's own exercise's tests (one of them must fail)."""
    planned = []
    for fault in FAULTS:
        copy_tree(SOLUTION, tmp_path / fault.id)
        plant(fault, tmp_path / fault.id)
        own_file = TEST_FILE_OF[fault.exercise]
        others = [
            first_test_of(f)
            for f in TEST_FILE_OF.values()
            if f not in (own_file, "tests/conftest.py")
        ]
        planned.append(PlannedRun(tmp_path / fault.id, ("-x", *others, own_file)))

    runs = run_all(planned, services_env, workers=testing.worker_count())

    for fault, run in zip(FAULTS, runs, strict=True):
        failing = [test.nodeid for test in run.outcomes if test.outcome != "passed"]
        assert len(failing) == 1, f"{fault.id}: {failing or 'nothing failed'}\n{run.output[-1500:]}"
        assert failing[0].startswith(TEST_FILE_OF[fault.exercise]), (
            f"{fault.id} broke a test of another exercise: {failing[0]}\n{run.output[-1500:]}"
        )


def test_an_empty_suite_leaves_every_fault_unnoticed(tmp_path, services_env):
    workdir = learner_workdir(tmp_path, ["conftest.py"])  # the fixtures, and not one test

    result = testing.check(CheckRequest(CHAPTER, workdir, services_env))

    assert result.result_of(testing.FIXTURES_EXERCISE).status == "passed"
    for exercise in CHAPTER.exercises[1:]:
        messages = [test.message for test in result.result_of(exercise.id).failures]
        assert f"{exercise.tests[0]} has no tests yet" in messages[0]
    unnoticed = {
        test.nodeid.removeprefix("planted fault ")
        for exercise_result in result.exercises
        for test in exercise_result.failures
        if test.nodeid.startswith("planted fault ")
    }
    assert unnoticed == {fault.id for fault in FAULTS}
    assert not result.passed


def test_the_report_names_unnoticed_faults_in_words_without_their_code(run_workshop):
    finished = run_workshop("check", "06")  # the starter: fixtures to finish, stubs to write

    assert finished.returncode == 1, finished.stdout + finished.stderr
    for exercise in CHAPTER.exercises:
        assert f"[FAIL] {CHAPTER.exercises.index(exercise) + 1}. {exercise.id}" in finished.stdout
    for fault in FAULTS:
        assert f"Unnoticed: {fault.unnoticed}." in finished.stdout, fault.id
        for edit in fault.edits:
            for line in filter(str.strip, edit.new.splitlines()):
                assert line.strip() not in finished.stdout, f"{fault.id} shows its code"


def test_the_next_step_of_a_written_suite_is_the_unnoticed_fault_not_a_todo(capsys):
    exercises = [
        checking.ExerciseResult(exercise, [checking.Outcome(exercise.id, exercise.id, "passed")])
        for exercise in CHAPTER.exercises
    ]
    cache = next(result for result in exercises if result.exercise.id == "testing.cache")
    cache.tests.append(
        checking.Outcome("planted fault cache.no_ttl", "testing.cache", "failed", "Unnoticed: ...")
    )

    report.render_summary(checking.CheckResult(chapter=CHAPTER, exercises=exercises))

    summary = capsys.readouterr().out
    assert "Next: testing.cache" in summary
    assert "TODO(" not in summary, "a written test file has no TODO left to look for"
    assert "catches the first unnoticed fault" in summary


@pytest.mark.slow  # a pytest run per planted fault
def test_a_partial_suite_catches_its_faults_and_reports_the_others(
    tmp_path, services_env, monkeypatch
):
    # Two faults for the auth tests, two for the cache tests that the suite does not have.
    chosen = ("auth.logout_ignored", "auth.forged_token", "cache.no_ttl", "cache.never_read")
    monkeypatch.setattr(
        testing, "planted_faults", lambda chapter: tuple(f for f in FAULTS if f.id in chosen)
    )
    workdir = learner_workdir(tmp_path, ["conftest.py", "test_auth.py"])

    result = testing.check(CheckRequest(CHAPTER, workdir, services_env))

    auth = result.result_of("testing.auth")
    assert auth.status == "passed", [test.message for test in auth.failures]
    assert {test.nodeid for test in auth.tests if test.nodeid.startswith("planted")} == {
        "planted fault auth.logout_ignored",
        "planted fault auth.forged_token",
    }
    cache = result.result_of("testing.cache")
    survivors = [test for test in cache.failures if test.nodeid.startswith("planted")]
    assert [test.nodeid for test in survivors] == [
        "planted fault cache.never_read",
        "planted fault cache.no_ttl",
    ]
    assert all(test.is_assertion for test in survivors)
    assert survivors[1].message.startswith("Unnoticed: cached users never expire")
    assert "To catch it:" in survivors[1].message


def test_a_learner_test_that_fails_on_the_correct_service_is_reported_first(
    tmp_path, services_env, monkeypatch
):
    monkeypatch.setattr(testing, "planted_faults", lambda chapter: ())
    workdir = learner_workdir(tmp_path, ["conftest.py"])
    (workdir / "tests/test_users.py").write_text(
        "async def test_wrong_expectation(client):\n"
        "    response = await client.get('/health/live')\n"
        "    assert response.status_code == 204, 'expected 204 from the liveness probe'\n"
    )

    result = testing.check(CheckRequest(CHAPTER, workdir, services_env))

    [failure] = result.result_of("testing.users").failures
    assert failure.is_assertion
    assert "fails on the correct service" in failure.message
    assert "expected 204 from the liveness probe" in failure.message


def test_a_bare_assert_that_fails_on_the_correct_service_shows_what_it_compared(
    tmp_path, services_env, monkeypatch
):
    monkeypatch.setattr(testing, "planted_faults", lambda chapter: ())
    workdir = learner_workdir(tmp_path, ["conftest.py"])
    (workdir / "tests/test_users.py").write_text(
        "async def test_wrong_expectation(client):\n"
        "    response = await client.get('/health/live')\n"
        "    assert response.status_code == 204\n"
    )

    result = testing.check(CheckRequest(CHAPTER, workdir, services_env))

    # What the learner reads: the report keeps a message's lines up to pytest's `assert ...`.
    [failure] = result.result_of("testing.users").failures
    [first_line, *_] = report.failure_summary(failure.message)
    assert "fails on the correct service" in first_line
    assert "assert 200 == 204" in first_line


def test_runs_from_the_forkserver_and_from_fresh_interpreters_agree(tmp_path, services_env):
    """The forkserver (libraries preloaded) and `spawn` (Windows: nothing preloaded) give the
    same outcomes and exit statuses."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests/test_tiny.py").write_text(
        "def test_passes():\n    assert True\n\n\ndef test_fails():\n    assert 1 == 2, 'no'\n"
    )
    planned = [PlannedRun(tmp_path)]

    [forked] = run_all(planned, services_env, workers=1)
    request = _request(planned[0], tmp_path / "spawned-run", services_env)
    [status] = run_processes([request], workers=1, context=multiprocessing.get_context("spawn"))
    spawned = _read_back(request, status)

    assert [(t.nodeid, t.outcome) for t in forked.outcomes] == [
        ("tests/test_tiny.py::test_passes", "passed"),
        ("tests/test_tiny.py::test_fails", "failed"),
    ]
    assert [(t.nodeid, t.outcome) for t in spawned.outcomes] == [
        (t.nodeid, t.outcome) for t in forked.outcomes
    ]
    assert forked.exit_status == spawned.exit_status == 1


def test_a_fault_the_solution_moved_away_from_is_an_error_not_a_pass(
    tmp_path, services_env, monkeypatch
):
    stale = Fault(
        id="errors.stale_anchor",
        exercise="testing.errors",
        unnoticed="never shown",
        catch_it="never shown",
        edits=(Edit("app/problems.py", "text the solution no longer has", ""),),
    )
    monkeypatch.setattr(testing, "planted_faults", lambda chapter: (stale,))
    workdir = learner_workdir(tmp_path, ["conftest.py", "test_errors.py"])

    result = testing.check(CheckRequest(CHAPTER, workdir, services_env))

    [failure] = result.result_of("testing.errors").failures
    assert failure.nodeid == "planted fault errors.stale_anchor"
    assert not failure.is_assertion, "a broken check must not look like the learner's miss"
    assert "expected its anchor once in app/problems.py, found it 0 times" in failure.message


def solution_conftest_with(workdir: Path, old: str, new: str) -> None:
    """The learner's conftest.py: the solution's, with one change."""
    conftest = workdir / "tests/conftest.py"
    source = conftest.read_text()
    assert source.count(old) == 1, f"the solution's conftest.py no longer has {old!r}"
    conftest.write_text(source.replace(old, new))


def test_a_factory_with_one_default_email_is_blamed_on_the_fixture(
    tmp_path, services_env, monkeypatch
):
    monkeypatch.setattr(testing, "planted_faults", lambda chapter: ())
    workdir = learner_workdir(tmp_path, ["conftest.py"])
    solution_conftest_with(workdir, 'f"user-{uuid4().hex[:12]}@example.com"', '"user@example.com"')

    result = testing.check(CheckRequest(CHAPTER, workdir, services_env))

    fixtures = result.result_of(testing.FIXTURES_EXERCISE)
    [failure] = fixtures.failures
    assert failure.nodeid == "fixture check test_create_user_makes_a_new_user_on_every_call"
    assert "create_user() twice without an email" in failure.message
    assert "tests/conftest.py" in failure.message


def test_an_override_left_in_place_after_the_test_is_a_fixture_failure(
    tmp_path, services_env, monkeypatch
):
    monkeypatch.setattr(testing, "planted_faults", lambda chapter: ())
    workdir = learner_workdir(tmp_path, ["conftest.py"])
    solution_conftest_with(workdir, "    app.dependency_overrides.clear()\n", "")

    result = testing.check(CheckRequest(CHAPTER, workdir, services_env))

    [failure] = result.result_of(testing.FIXTURES_EXERCISE).failures
    assert failure.nodeid.endswith(
        "test_override_dependency_undoes_its_replacements_when_the_test_ends"
    )
    assert "get_password_hasher was still replaced" in failure.message
    assert "tests/conftest.py" in failure.message


HANGING_RACE = """\
import asyncio

from app.dependencies import get_password_hasher
from app.resources import resources_of


async def test_twenty_registrations_with_one_email_make_one_account(
    app, client, override_dependency
):
    hasher = resources_of(app).password_hasher
    barrier = asyncio.Barrier(21)  # one party more than there are requests: never opens

    class Waiting:
        async def hash(self, password):
            await barrier.wait()
            return await hasher.hash(password)

    override_dependency(get_password_hasher, lambda: Waiting())
    registration = {"email": "race@example.com", "password": "correct horse"}
    await asyncio.gather(*(client.post("/users", json=registration) for _ in range(20)))
"""


@pytest.mark.slow  # waits out a time limit
def test_a_test_that_hangs_gets_advice_and_its_faults_are_not_tried_yet(
    tmp_path, services_env, monkeypatch
):
    race_faults = tuple(f for f in FAULTS if f.exercise == "testing.concurrency")
    monkeypatch.setattr(testing, "planted_faults", lambda chapter: race_faults)
    monkeypatch.setattr(testing, "LEARNER_TEST_TIMEOUT_SECONDS", 3)
    workdir = learner_workdir(tmp_path, ["conftest.py"])
    (workdir / "tests/test_concurrency.py").write_text(HANGING_RACE)

    result = testing.check(CheckRequest(CHAPTER, workdir, services_env))

    [hung, *faults] = result.result_of("testing.concurrency").failures
    assert "Timeout (>3.0s)" in hung.message
    assert "use one n for Barrier(n) and range(n)" in hung.message
    assert "give barrier.wait() a timeout" in hung.message
    assert [fault.nodeid for fault in faults] == [f"planted fault {f.id}" for f in race_faults]
    for fault in faults:
        assert fault.message.startswith("Not tried yet: test_twenty_registrations"), fault.message
        assert "Unnoticed" not in fault.message


def test_an_app_exception_that_reaches_the_test_gets_advice(tmp_path, services_env, monkeypatch):
    monkeypatch.setattr(testing, "planted_faults", lambda chapter: ())
    workdir = learner_workdir(tmp_path, ["conftest.py"])
    (workdir / "tests/test_errors.py").write_text(
        "from app.dependencies import get_password_hasher\n\n\n"
        "class HasherDown(Exception):\n    pass\n\n\n"
        "def broken_hasher():\n    raise HasherDown('the hasher is down')\n\n\n"
        "async def test_a_crash_answers_500(client, override_dependency):\n"
        "    override_dependency(get_password_hasher, broken_hasher)\n"
        "    response = await client.post(\n"
        "        '/users', json={'email': 'a@example.com', 'password': 'correct horse'}\n"
        "    )\n"
        "    assert response.status_code == 500\n"
    )

    result = testing.check(CheckRequest(CHAPTER, workdir, services_env))

    [failure] = result.result_of("testing.errors").failures
    assert "the hasher is down" in failure.message
    assert "The app's exception reached your test" in failure.message
    assert "raise_app_exceptions=False" in failure.message


def test_the_tally_counts_the_tests_written_in_the_files_whatever_the_selection(tmp_path):
    starter = MANIFEST.root / CHAPTER.directory / "tests"
    solution = SOLUTION / "tests"
    assert testing._tests_in_files(starter) == (0, testing._tests_asked_for(CHAPTER))
    assert testing._tests_in_files(solution) == (24, 24)

    mixed = tmp_path / "tests"
    copy_tree(starter, mixed)
    shutil.copyfile(solution / "test_auth.py", mixed / "test_auth.py")
    (mixed / "test_errors.py").write_text("def test_broken(:\n    pass\n")  # does not parse

    assert testing._tests_in_files(mixed) == (7 + 1, 24 - 4 + 1)
    note = testing._tally(CHAPTER, testing.PytestRun(), [], mixed)
    assert note.startswith("Your suite: tests written 8 of 24,"), note
