"""Which `app` a pytest run imports: the one of the code tree its tests live in.

Every chapter, every solution and final/ has a package named `app`. A test path inside a code
tree (a directory holding `app/__init__.py`) imports that tree's `app`: plain `uv run pytest` in
chapters/04-auth, or `uv run pytest chapters/04-auth/tests` from the root, puts chapters/04-auth
first on `sys.path`. Test paths outside every code tree (the repository's own tests) import the
tree named by the `app_tree` ini option (final/ in the root configuration). Two code trees in
one run cannot both be `app`: that is a usage error, said in one sentence.

Loaded through its own `pytest11` entry point, before any conftest imports `app`.
"""

from __future__ import annotations

import glob
import sys
from pathlib import Path

import pytest

APP_TREE_INI = "app_tree"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        APP_TREE_INI,
        type="paths",
        default=[],
        help="the code tree whose `app` package tests outside every code tree import",
    )


def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    """Put the run's code tree first on sys.path before the first conftest is imported."""
    if early_config.known_args_namespace.pyargs:
        return  # test modules named by import path: nothing to locate
    configured = early_config.getini(APP_TREE_INI)
    default = Path(configured[0]).resolve() if configured else None
    trees = {
        tree
        for path in _test_paths(early_config)
        if (tree := _code_tree_of(path) or default) is not None
    }
    if len(trees) > 1:
        raise pytest.UsageError(_one_tree_per_run(sorted(trees), early_config.rootpath))
    if trees:
        entry = str(trees.pop())
        sys.path.insert(0, entry)
        early_config.add_cleanup(lambda: sys.path.remove(entry) if entry in sys.path else None)


def _test_paths(config: pytest.Config) -> list[Path]:
    """The paths pytest will collect: the arguments, else testpaths or the current directory."""
    invocation_dir = config.invocation_params.dir
    given = config.known_args_namespace.file_or_dir
    arguments = [str(argument).split("::")[0] for argument in given]
    if not arguments and invocation_dir == config.rootpath:
        for pattern in config.getini("testpaths"):
            arguments += sorted(glob.glob(str(config.rootpath / pattern), recursive=True))
    if not arguments:
        arguments = [str(invocation_dir)]
    return [(invocation_dir / argument).resolve() for argument in arguments]


def _code_tree_of(path: Path) -> Path | None:
    """The nearest directory at or above `path` that holds an `app` package."""
    for candidate in (path, *path.parents):
        if (candidate / "app" / "__init__.py").is_file():
            return candidate
    return None


def _one_tree_per_run(trees: list[Path], rootpath: Path) -> str:
    names = [_relative(tree, rootpath) for tree in trees]
    return (
        f"{' and '.join(names)} each have their own `app` package, so their tests cannot share "
        f"one pytest run: run them one at a time, e.g. `uv run pytest {names[0]}/tests`."
    )


def _relative(path: Path, rootpath: Path) -> str:
    try:
        return str(path.relative_to(rootpath))
    except ValueError:
        return str(path)
