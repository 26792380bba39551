"""What may import what (CONTRIBUTING.md, "Where each part lives"), read from the source.

- The chapters' apps, the solutions' and final/app import nothing of the workshop's tooling:
  a learner's service is a plain FastAPI service.
- `localservices` imports nothing of the command (`workshop`, typer, rich) or the harness.
- The harness never imports the `workshop` command, nor the services it measures (`app`):
  it runs them in processes of their own.
- `workshop` imports the harness only lazily, inside the commands that need it, so the
  two never import each other both ways and the learner's commands start fast.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
TOOLING = {"workshop", "localservices", "harness"}


def python_files(*patterns: str) -> list[Path]:
    files = sorted({path for pattern in patterns for path in REPO_ROOT.glob(pattern)})
    assert files, f"no Python files match {patterns}: did a folder move?"
    return files


def imports(path: Path, *, top_level_only: bool = False) -> Iterator[tuple[int, str]]:
    """(line, top-level package) for every import in the file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    nodes = tree.body if top_level_only else ast.walk(tree)
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module.split(".")[0]


def offending(files: list[Path], forbidden: set[str], *, top_level_only: bool = False):
    return [
        f"{path.relative_to(REPO_ROOT)}:{line} imports {package}"
        for path in files
        for line, package in imports(path, top_level_only=top_level_only)
        if package in forbidden
    ]


@pytest.mark.parametrize(
    "pattern",
    ["chapters/*/app/**/*.py", "solutions/*/app/**/*.py", "final/app/**/*.py"],
)
def test_the_services_import_none_of_the_tooling(pattern: str) -> None:
    found = offending(python_files(pattern), TOOLING)

    assert not found, "a service must stand alone, without the workshop's tooling:\n" + "\n".join(
        found
    )


def test_localservices_imports_nothing_of_the_command_or_the_harness() -> None:
    found = offending(
        python_files("localservices/src/**/*.py"), {"workshop", "harness", "typer", "rich"}
    )

    assert not found, "localservices is below the command and the harness:\n" + "\n".join(found)


def test_the_harness_imports_neither_the_command_nor_the_services_it_measures() -> None:
    found = offending(python_files("harness/src/**/*.py"), {"workshop", "app"})

    assert not found, "the harness runs services in processes of their own:\n" + "\n".join(found)


def test_the_command_imports_the_harness_only_inside_its_commands() -> None:
    found = offending(python_files("workshop/**/*.py"), {"harness"}, top_level_only=True)

    assert not found, "import the harness lazily, inside the command:\n" + "\n".join(found)
