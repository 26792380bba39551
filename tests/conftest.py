"""Shared fixtures of the repository's tests: a throw-away copy of the workshop, and a way to
run the `workshop` command on it the way a learner does (a separate process, no terminal)."""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from _pytest.config import Config

from workshop.contract import copy_tree
from workshop.manifest import ROOT_ENV

REPO_ROOT = Path(__file__).resolve().parents[1]
# What a learner's checkout needs for the command: the manifest, chapters, solutions, pages,
# and the ignore rules (reset keeps ignored files such as a learner's `.env`).
COPIED = ("chapters", "solutions", "docs/chapters", "final/app", "final/migrations", ".gitignore")

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


# --- what the repository's own tests need beyond a learner's install --------------------------

AUTHORS_GROUP = "authors"


def missing_author_tools(pyproject_path: Path = REPO_ROOT / "pyproject.toml") -> list[str]:
    """The packages of pyproject's `authors` group that this environment lacks."""
    pyproject = tomllib.loads(pyproject_path.read_text(encoding="utf-8"))
    missing = []
    for requirement in pyproject["dependency-groups"][AUTHORS_GROUP]:
        name = re.split(r"[\s<>=!~\[;]", requirement, maxsplit=1)[0]
        try:
            importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
    return missing


def pytest_configure(config: Config) -> None:
    """`uv run pytest` with a learner's install (no authors' tools) stops with the fix,
    instead of a collection error per test module that imports them."""
    if config.args_source is not Config.ArgsSource.TESTPATHS:
        return  # the caller chose the tests: their imports speak for themselves
    if missing := missing_author_tools():
        pytest.exit(
            "The repository's own tests use the authors' tools, which a learner's install "
            f"leaves out ({', '.join(missing)}): run `uv sync --all-groups`, then "
            "`uv run pytest` again.",
            returncode=pytest.ExitCode.USAGE_ERROR,
        )


CHROMIUM_HELP = (
    "Chromium is not installed, and the docs' browser test drives it headless. Install it: "
    "Debian or Ubuntu `sudo apt-get install chromium`; macOS `brew install --cask chromium`; "
    "any system `uv run playwright install chromium` (Playwright's own build). Or set "
    "CHROMIUM to the path of a Chromium or Chrome binary."
)


def find_chromium() -> str | None:
    """A Chromium to drive: $CHROMIUM, the system's, else Playwright's own if installed."""
    for candidate in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser"):
        if candidate and (path := shutil.which(candidate) or _existing(candidate)):
            return path
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    with sync_playwright() as playwright:
        return _existing(playwright.chromium.executable_path)


def _existing(path: str) -> str | None:
    return path if path and Path(path).is_file() else None


def require_chromium() -> str:
    if path := find_chromium():
        return path
    pytest.fail(CHROMIUM_HELP, pytrace=False)


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """The browser for tests that open the built site; fails with how to install it."""
    return require_chromium()
