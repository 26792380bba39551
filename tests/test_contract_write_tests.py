"""The seam for chapters whose learners write the tests (`kind = "write-tests"`): the manifest
names a checker module, `workshop check` and the contract call it instead of running the
chapter's own tests. A made-up chapter and checker prove the plumbing."""

import os
import subprocess
import sys
import textwrap

from workshop import contract
from workshop.manifest import ROOT_ENV, load_manifest

MANIFEST = """
[[chapters]]
id = "testing"
number = "06"
title = "Testing: you write the tests"
summary = "The learner's tests must catch a planted fault."
services = []
kind = "write-tests"
checker = "fault_checker"
teaching_minutes = 5
exercise_minutes = 5
objectives = ["o"]
key_points = ["k"]

[[chapters.exercises]]
id = "testing.faults"
title = "Catch the planted fault"
files = ["tests/test_mine.py"]
tests = ["tests/test_mine.py"]
hints = ["a nudge", "the concept"]
"""

# A checker in the shape CONTRIBUTING.md documents: check(request) -> CheckResult.
CHECKER = """
from workshop.checking import CheckResult, ExerciseResult, Outcome


def check(request):
    written = (request.workdir / "tests/test_mine.py").read_text()
    caught = "catches the fault" in written
    results = [
        ExerciseResult(
            exercise,
            [
                Outcome(
                    nodeid=f"fault::{exercise.name}",
                    exercise=exercise.id,
                    outcome="passed" if caught else "failed",
                    message="" if caught else "Your tests pass on the faulty service.",
                    exception="" if caught else "AssertionError",
                )
            ],
        )
        for exercise in request.chapter.exercises
    ]
    return CheckResult(chapter=request.chapter, exercises=results)
"""

DOCS_PAGE = "\n\n".join(
    f"<!-- workshop:{marker} -->" for marker in ("objectives", "exercises", "check", "key-points")
)


def make_workshop(tmp_path):
    root = tmp_path / "workshop"
    workspace = root / "chapters/06-testing"
    (workspace / "tests").mkdir(parents=True)
    (root / "solutions/06-testing/tests").mkdir(parents=True)
    (root / "docs/chapters").mkdir(parents=True)
    (root / "chapters/workshop.toml").write_text(MANIFEST)
    (workspace / "README.md").write_text("Exercise testing.faults: write the test.\n")
    (workspace / "tests/test_mine.py").write_text("# TODO(testing.faults): write tests\n")
    (root / "solutions/06-testing/tests/test_mine.py").write_text("# this test catches the fault\n")
    (root / "docs/chapters/06-testing.md").write_text(DOCS_PAGE + "\n")
    (tmp_path / "checkers").mkdir()
    (tmp_path / "checkers/fault_checker.py").write_text(textwrap.dedent(CHECKER))
    return root


def test_check_runs_the_chapters_checker(tmp_path):
    root = make_workshop(tmp_path)
    env = dict(os.environ, **{ROOT_ENV: str(root)}, PYTHONPATH=str(tmp_path / "checkers"))

    finished = subprocess.run(
        [sys.executable, "-m", "workshop", "check", "06"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert finished.returncode == 1, finished.stdout + finished.stderr
    assert "[FAIL] 1. testing.faults" in finished.stdout
    assert "Your tests pass on the faulty service." in finished.stdout


def test_the_contract_holds_for_a_write_tests_chapter(tmp_path, monkeypatch):
    root = make_workshop(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path / "checkers"))
    manifest = load_manifest(root)

    verification = contract.verify_chapter(manifest, manifest.chapter("06"), env={})

    assert verification.ok, [finding.message for finding in verification.findings]
    assert verification.starter.result_of("testing.faults").status == "failing"
    assert verification.solution.result_of("testing.faults").status == "passed"
