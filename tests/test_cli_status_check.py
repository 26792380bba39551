"""`workshop` (status) and `workshop check` on the starter and on a solved copy."""

import json

import pytest

from workshop.manifest import load_manifest

CHAPTER_01 = load_manifest().chapter("config")
EXERCISE_IDS = [exercise.id for exercise in CHAPTER_01.exercises]


def test_status_on_the_starter_shows_chapter_01_failing_and_how_to_start(run_workshop):
    finished = run_workshop()

    assert finished.returncode == 0, finished.stderr
    output = finished.stdout
    assert "01 Configuration" in output
    assert "<- you are here" in output
    failing = [line for line in output.splitlines() if line.startswith("[FAIL]")]
    for exercise_id in EXERCISE_IDS:
        assert any(exercise_id in line for line in failing), f"{exercise_id} missing:\n{output}"
    assert "0/5 exercises" in output
    assert "How to start: read chapters/01-config/README.md" in output
    assert "\x1b[" not in output, "plain output must carry no escape codes without a terminal"


def test_check_on_the_starter_reports_each_exercise_and_exits_1(run_workshop, workshop_root):
    finished = run_workshop("check", "01")

    assert finished.returncode == 1, finished.stdout + finished.stderr
    failing_lines = [line for line in finished.stdout.splitlines() if line.startswith("[FAIL]")]
    assert len(failing_lines) == len(EXERCISE_IDS), finished.stdout
    assert "GET /health/live should answer 200; it answered 404." in finished.stdout
    assert "Stuck? `uv run workshop hint 01 health`" in finished.stdout
    assert "5 of 5 exercises to go. Next: config.health" in finished.stdout
    progress = json.loads((workshop_root / ".workshop/progress.json").read_text())
    assert {progress["exercises"][i]["status"] for i in EXERCISE_IDS} == {"failing"}


def test_check_on_a_solved_copy_passes_and_status_shows_it(run_workshop, solve_chapter):
    solve_chapter("01-config")

    checked = run_workshop("check", "config")
    status = run_workshop("status", "--no-check")

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Chapter 01 passes: all 5 exercises are done." in checked.stdout
    assert "[FAIL]" not in checked.stdout
    chapter_line = next(line for line in status.stdout.splitlines() if "01 Configuration" in line)
    assert chapter_line.startswith("[pass]")
    assert "5/5 exercises" in chapter_line


def test_check_passes_extra_arguments_to_pytest(run_workshop):
    finished = run_workshop("check", "01", "--", "-k", "liveness")

    assert finished.returncode == 1
    lines = finished.stdout.splitlines()
    assert any(line.startswith("[FAIL] 1. config.health") for line in lines), finished.stdout
    # Exercises whose tests were deselected are "not run", not failing, nor "to go".
    assert sum(line.startswith("[ -- ]") for line in lines) == len(EXERCISE_IDS) - 1
    assert "Of the selected tests, 1 exercise(s) fail. Next: config.health" in finished.stdout
    assert "to go" not in finished.stdout


def test_a_selection_that_passes_exits_0_and_says_it_was_partial(run_workshop, solve_chapter):
    solve_chapter("01-config")

    finished = run_workshop("check", "01", "--", "-k", "liveness")

    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "The selected tests pass (1 of 5 exercises touched)" in finished.stdout
    assert "`uv run workshop check 01` checks the whole chapter" in finished.stdout


def test_a_selection_that_matches_nothing_says_so_and_exits_2(run_workshop):
    finished = run_workshop("check", "01", "--", "-k", "no_such_test_name")

    assert finished.returncode == 2, finished.stdout + finished.stderr
    assert "No test matched -k no_such_test_name: nothing was checked." in finished.stdout
    assert "could not run" not in finished.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("check", "42"), "there is no chapter '42'"),
        (("hint", "01", "nope"), "chapter 01 has no exercise 'nope'"),
        (("check",), "Missing argument"),
    ],
)
def test_usage_errors_exit_2_with_a_readable_message(run_workshop, args, message):
    finished = run_workshop(*args)

    assert finished.returncode == 2, finished.stdout + finished.stderr
    assert message in finished.stderr
