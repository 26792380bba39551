"""What an instructor and a learner who moves around need: where everyone stands (as JSON
and as one line), what was copied with `solve`, diffs between chapters, resetting one
exercise, and the words at the end of a chapter and of the workshop (issue 18 item 5,
issue 19 item 4)."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from workshop.contract import code_files
from workshop.manifest import ROOT_ENV, load_manifest

MANIFEST = load_manifest()
SOLUTIONS = MANIFEST.root / "solutions"
CONFIG = MANIFEST.chapter("config")


def standing(run_workshop, env: dict[str, str] | None = None) -> dict:
    finished = run_workshop("status", "--json", env=env)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    return json.loads(finished.stdout)


def statuses(report: dict, chapter: str) -> dict[str, str]:
    (entry,) = [c for c in report["chapters"] if c["number"] == chapter]
    return {exercise["id"]: exercise["status"] for exercise in entry["exercises"]}


def test_status_json_says_where_the_learner_stands_without_running_a_check(run_workshop):
    report = standing(run_workshop, env={"WORKSHOP_PARTICIPANT": "Ada L."})

    assert report["participant"] == "ada_l"
    assert report["current_chapter"] == "01"
    assert report["total"] == sum(len(c.exercises) for c in MANIFEST.chapters)
    assert report["done"] == 0
    assert set(statuses(report, "01").values()) == {"not checked"}, "--json does not check"
    assert report["summary"].startswith("ada_l | chapter 01 Configuration 0/5 | workshop 0/")


def test_the_one_line_summary_names_the_clone_when_no_name_is_given(run_workshop):
    env = {"WORKSHOP_PARTICIPANT": ""}
    first = run_workshop("status", "--summary", env=env)

    assert first.returncode == 0, first.stderr
    (line,) = first.stdout.splitlines()
    assert "| chapter 01 Configuration 0/5 | workshop 0/" in line
    assert "| last check never" in line
    assert run_workshop("status", "--summary", env=env).stdout == first.stdout, "stable"


def test_solve_marks_what_it_copied_and_warns_about_shared_files(run_workshop):
    settings = CONFIG.exercise("settings")
    sharing = [
        ex for ex in CONFIG.exercises if ex != settings and set(ex.files) & set(settings.files)
    ]
    assert sharing, "chapter 01's settings exercise shares app/config.py with another"

    solved = run_workshop("solve", "01", "settings", "--yes")
    report = standing(run_workshop)

    assert solved.returncode == 0, solved.stderr
    assert f"also hold(s) the work of {sharing[0].id}" in solved.stdout
    assert statuses(report, "01")[settings.id] == "solved"
    assert statuses(report, "01")[sharing[0].id] == "solved", "its files were all copied"
    assert report["solved"] == 1 + len(sharing)
    assert f"({1 + len(sharing)} copied with solve)" in report["summary"]


def test_exercises_a_later_starter_holds_count_as_done(run_workshop):
    run_workshop("start", "03")

    report = standing(run_workshop)
    plain = run_workshop("status", "--no-check").stdout

    assert set(statuses(report, "01").values()) == {"given"}
    assert set(statuses(report, "02").values()) == {"given"}
    assert set(statuses(report, "03").values()) == {"not checked"}
    line = next(line for line in plain.splitlines() if "01 Configuration" in line)
    assert line.startswith("[pass]"), line
    assert "5/5 exercises (5 in a later starter)" in line


def test_a_selection_keeps_earlier_passes_and_never_records_a_partial_pass(
    run_workshop, solve_chapter, workshop_root
):
    solve_chapter("01-config")
    assert run_workshop("check", "01").returncode == 0
    starter = workshop_root / "chapters/01-config/app/health.py"
    subprocess.run(["git", "-C", str(workshop_root), "checkout", "--", str(starter)], check=True)

    cors_only = run_workshop("check", "01", "--", "-k", "cors")
    after_cors = statuses(standing(run_workshop), "01")
    health_only = run_workshop("check", "01", "--", "-k", "liveness")
    after_health = statuses(standing(run_workshop), "01")

    assert cors_only.returncode == 0, cors_only.stdout
    assert "(not selected)" in cors_only.stdout
    assert set(after_cors.values()) == {"passed"}, "a selection leaves the others as they were"
    assert health_only.returncode == 1
    assert after_health["config.health"] == "failing"
    assert {s for i, s in after_health.items() if i != "config.health"} == {"passed"}
    assert "Next: config.health" in health_only.stdout


def test_a_fresh_pass_under_a_selection_is_left_for_a_full_check(run_workshop, solve_chapter):
    solve_chapter("01-config")

    run_workshop("check", "01", "--", "-k", "liveness")

    assert statuses(standing(run_workshop), "01")["config.health"] == "not checked"


def added_by_chapter_04() -> list[str]:
    """Files (with content) that chapter 04's solution has and chapter 03's has not."""
    theirs, ours = code_files(SOLUTIONS / "03-cache"), code_files(SOLUTIONS / "04-auth")
    added = sorted(path for path, content in ours.items() if path not in theirs and content)
    assert added, "chapter 04 adds files to chapter 03's solution"
    return added


def test_diff_between_two_chapters_solutions_with_stat(run_workshop):
    finished = run_workshop("diff", "--chapters", "03", "04", "--stat")

    assert finished.returncode == 0, finished.stderr
    lines = finished.stdout.splitlines()
    added = added_by_chapter_04()
    assert lines[0] == "solution 03 (solutions/03-cache) -> solution 04 (solutions/04-auth):"
    assert any(line.strip().startswith(f"{added[0]} ") and "| +" in line for line in lines)
    assert lines[-1].strip().endswith("removed")
    assert "file(s) changed" in lines[-1]


def test_diff_between_two_chapters_shows_the_lines(run_workshop):
    finished = run_workshop("diff", "--chapters", "03", "04")

    assert f"+++ solution 04: solutions/04-auth/{added_by_chapter_04()[0]}" in finished.stdout
    assert run_workshop("diff", "01", "--chapters", "03", "04").returncode == 2


def test_reset_of_one_exercise_restores_its_files_and_names_the_work_it_shares(
    run_workshop, solve_chapter, workshop_root
):
    solve_chapter("01-config")
    workspace = workshop_root / "chapters/01-config"
    solved_health = (workspace / "app/health.py").read_text()
    assert run_workshop("check", "01").returncode == 0

    health = run_workshop("reset", "01", "health", "--yes")
    settings = run_workshop("reset", "01", "settings", "--yes")

    assert health.returncode == 0, health.stderr
    assert "also hold" not in health.stdout, "app/health.py is health's alone"
    assert (workspace / "app/health.py").read_text() != solved_health
    assert "app/config.py also hold(s) the work of config.secret_guard" in settings.stdout
    report = statuses(standing(run_workshop), "01")
    assert report["config.health"] == report["config.settings"] == "not checked"
    assert report["config.secret_guard"] == "not checked", "its file was reset too"
    assert report["config.timing"] == "passed", "the rest of the chapter is untouched"
    assert (workspace / "app/middleware.py").read_text() == (
        workshop_root / "solutions/01-config/app/middleware.py"
    ).read_text()


def test_reset_of_one_exercise_asks_first(run_workshop):
    finished = run_workshop("reset", "01", "settings")

    assert finished.returncode == 2
    assert "--yes" in finished.stderr


def test_hint_on_a_passed_chapter_says_it_is_done(run_workshop, solve_chapter):
    solve_chapter("01-config")
    run_workshop("check", "01")

    finished = run_workshop("hint", "01")

    assert finished.returncode == 0
    assert "Chapter 01 is done: every exercise passed its last check" in finished.stdout
    assert "Hint 1 of" not in finished.stdout
    assert "Next: `uv run workshop start 02`" in finished.stdout


def test_start_01_does_not_speak_of_previous_chapters(run_workshop):
    first = run_workshop("start", "01")
    later = run_workshop("start", "02")

    assert "previous" not in first.stdout, first.stdout
    assert "Chapter 01 is now your current chapter." in first.stdout
    assert "Its starter already holds the previous chapters' solutions." in later.stdout


LAST_CHAPTER = """
[[chapters]]
id = "probe"
number = "01"
title = "Probe: the only and last chapter"
summary = "s"
services = []
teaching_minutes = 5
exercise_minutes = 5
objectives = ["o"]
key_points = ["k"]

[[chapters.exercises]]
id = "probe.done"
title = "Already done"
files = []
tests = ["tests/test_done.py"]
hints = ["a", "b"]
"""


def test_passing_the_last_chapter_ends_the_workshop_with_a_message(tmp_path):
    root = tmp_path / "workshop"
    (root / "chapters/01-probe/tests").mkdir(parents=True)
    (root / "chapters/workshop.toml").write_text(LAST_CHAPTER)
    (root / "chapters/01-probe/tests/test_done.py").write_text(
        textwrap.dedent(
            """
            import pytest

            pytestmark = pytest.mark.exercise("probe.done")


            def test_done():
                assert True
            """
        )
    )

    def check(*args: str) -> str:
        return subprocess.run(
            [sys.executable, "-m", "workshop", "check", "01", *args],
            env=dict(os.environ, **{ROOT_ENV: str(root)}),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        ).stdout

    assert "You finished the workshop" in check(), "the last chapter's pass ends the workshop"
    assert "You finished the workshop" not in check("--", "-k", "done"), "not on a selection"


def test_a_selection_in_the_write_tests_chapter_reports_only_what_it_ran(run_workshop):
    finished = run_workshop("check", "06", "--", "-k", "cache")

    lines = finished.stdout.splitlines()
    selected = [line for line in lines if "testing." in line and line.startswith("[")]
    assert len(selected) == len(MANIFEST.chapter("testing").exercises), finished.stdout
    for line in selected:
        if "testing.cache" not in line:
            assert line.startswith("[ -- ]"), line
            assert line.endswith("(not selected)"), line
    assert "has no tests yet" not in finished.stdout
    assert "Next: testing.cache" in finished.stdout


def test_tb_shows_the_traceback_of_a_learners_own_test_in_chapter_06(run_workshop, workshop_root):
    tests = workshop_root / "chapters/06-testing/tests/test_users.py"
    tests.write_text(
        tests.read_text()
        + "\n\ndef test_deliberately_wrong():\n    assert 1 + 1 == 3, 'arithmetic, deliberately'\n"
    )

    finished = run_workshop("check", "06", "--tb", "--", "-k", "deliberately")

    assert "--- pytest's traceback of tests/test_users.py::test_deliberately_wrong ---" in (
        finished.stdout
    ), finished.stdout
    assert "assert 1 + 1 == 3" in finished.stdout


@pytest.mark.slow  # two chapters checked whole
def test_checking_a_later_chapter_moves_the_learner_on(run_workshop):
    run_workshop("check", "01")  # tried, not finished
    run_workshop("check", "02")  # then went on: 02's starter holds 01's solution

    report = standing(run_workshop)

    assert report["current_chapter"] == "02"
    assert set(statuses(report, "01").values()) == {"given"}
    assert set(statuses(report, "02").values()) == {"failing"}
