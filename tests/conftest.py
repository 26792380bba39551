"""Shared fixtures of the repository's tests: a throw-away copy of the workshop, and a way to
run the `workshop` command on it the way a learner does (a separate process, no terminal)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from workshop.contract import copy_tree
from workshop.manifest import ROOT_ENV

REPO_ROOT = Path(__file__).resolve().parents[1]
# What a learner's checkout needs for the command: the manifest, chapters, solutions, pages,
# and the ignore rules (reset keeps ignored files such as a learner's `.env`).
COPIED = ("chapters", "solutions", "docs/chapters", ".gitignore")

RunWorkshop = Callable[..., subprocess.CompletedProcess]


def git(root: Path, *args: str) -> subprocess.CompletedProcess:
    identity = ("-c", "user.name=Workshop tests", "-c", "user.email=tests@workshop.invalid")
    return subprocess.run(
        ["git", *identity, "-C", str(root), *args], capture_output=True, text=True, check=True
    )


@pytest.fixture
def workshop_root(tmp_path: Path) -> Path:
    """A copy of the workshop's chapters, committed to a git repository of its own."""
    root = tmp_path / "workshop"
    for relative in COPIED:
        if (REPO_ROOT / relative).is_dir():
            copy_tree(REPO_ROOT / relative, root / relative)
        else:
            (root / relative).write_bytes((REPO_ROOT / relative).read_bytes())
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "the workshop as a learner clones it")
    return root


@pytest.fixture
def run_workshop(workshop_root: Path) -> RunWorkshop:
    """`workshop ARGS...` on the copy, with no terminal; returns the finished process."""

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 300):
        environment = dict(os.environ, **{ROOT_ENV: str(workshop_root)}, **(env or {}))
        return subprocess.run(
            [sys.executable, "-m", "workshop", *args],
            cwd=workshop_root,
            env=environment,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run


@pytest.fixture
def solve_chapter(workshop_root: Path) -> Callable[[str], None]:
    """Lay a chapter's solution over its starter, as a learner who finished it would have."""

    def solve(slug: str) -> None:
        solution = workshop_root / "solutions" / slug
        for path in solution.rglob("*"):
            if path.is_file():
                target = workshop_root / "chapters" / slug / path.relative_to(solution)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(path.read_bytes())

    return solve
