"""Plain pytest runs the learner's code: a run inside a chapter imports that chapter's `app`,
never final's, and two chapters in one run are refused in one sentence.

Each run is the `pytest` command of this environment (as `uv run pytest` starts it: the
current directory is not on the path), with a small plugin that writes down which `app` the
collected tests imported.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
PYTEST = Path(sys.executable).with_name("pytest")

RECORDER = """
import os
import sys


def pytest_collection_finish(session):
    app = sys.modules.get("app")
    with open(os.environ["APP_RECORD"], "w") as record:
        record.write(app.__file__ if app else "no app imported")
"""


def run_pytest(tmp_path: Path, *args: str, cwd: Path) -> tuple[subprocess.CompletedProcess, str]:
    (tmp_path / "app_recorder.py").write_text(textwrap.dedent(RECORDER))
    record = tmp_path / "app.txt"
    env = dict(os.environ, PYTHONPATH=str(tmp_path), APP_RECORD=str(record))
    finished = subprocess.run(
        [str(PYTEST), "-p", "app_recorder", "-p", "no:cacheprovider", "--co", "-q", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return finished, record.read_text() if record.exists() else ""


@pytest.mark.parametrize(
    ("cwd", "args"),
    [("chapters/04-auth", ()), (".", ("chapters/04-auth/tests",))],
    ids=["inside-the-chapter", "from-the-root"],
)
def test_a_chapter_run_imports_the_chapter_app(
    tmp_path: Path, cwd: str, args: tuple[str, ...]
) -> None:
    finished, app_file = run_pytest(tmp_path, *args, cwd=REPO_ROOT / cwd)

    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert app_file == str(REPO_ROOT / "chapters/04-auth/app/__init__.py"), (
        f"`uv run pytest` in chapter 04 imported {app_file}, not the chapter's own app"
    )


def test_tests_outside_every_code_tree_import_final_app(tmp_path: Path) -> None:
    finished, app_file = run_pytest(tmp_path, "harness/tests", cwd=REPO_ROOT)

    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert app_file == str(REPO_ROOT / "final/app/__init__.py"), app_file


def test_two_chapters_in_one_run_are_refused_in_one_sentence(tmp_path: Path) -> None:
    finished, app_file = run_pytest(
        tmp_path, "chapters/03-cache/tests", "chapters/04-auth/tests", cwd=REPO_ROOT
    )

    output = finished.stdout + finished.stderr
    assert finished.returncode == pytest.ExitCode.USAGE_ERROR, output
    assert (
        "chapters/03-cache and chapters/04-auth each have their own `app` package, so their "
        "tests cannot share one pytest run" in output
    ), output
    assert "Traceback" not in output, output
    assert app_file == "", "nothing may be collected"
