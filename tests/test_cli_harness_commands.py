"""`workshop bench` and `workshop reliability` start, explain themselves and refuse what they
do not know before touching any server (the long runs themselves are too long for pytest)."""

from __future__ import annotations

import subprocess
import sys

from workshop.manifest import load_manifest


def workshop(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workshop", *args],
        cwd=load_manifest().root,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_reliability_explains_itself_and_refuses_an_unknown_check() -> None:
    help_text = workshop("reliability", "--help")
    unknown = workshop("reliability", "everything")

    assert help_text.returncode == 0, help_text.stderr
    assert "RELIABILITY.md" in help_text.stdout
    assert unknown.returncode == 2, unknown.stdout + unknown.stderr
    assert "fuzz, attacks, faults, soak" in unknown.stderr


def test_bench_lists_its_runs() -> None:
    listed = workshop("bench", "list")

    assert listed.returncode == 0, listed.stderr
    assert "cached-read" in listed.stdout
    assert "chapter-04-auth" in listed.stdout


def test_bench_refuses_an_unknown_run_before_starting_anything() -> None:
    refused = workshop("bench", "run", "--only", "cached-read", "--only", "nonsense")

    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "unknown run nonsense" in refused.stderr


def test_without_the_authors_tools_the_commands_say_how_to_get_them() -> None:
    """A learner's lean install has no harness: the command says so, as an environment error."""
    without_harness = (
        "import sys; sys.modules['harness'] = None; "  # as if it were not installed
        "sys.argv = ['workshop', 'bench', 'list']; from workshop.cli import main; main()"
    )
    finished = subprocess.run(
        [sys.executable, "-c", without_harness],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert finished.returncode == 3, finished.stdout + finished.stderr
    assert "run `uv sync --all-groups`" in finished.stderr, finished.stderr
