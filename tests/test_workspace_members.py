"""The uv workspace: final/ stands alone, and the root's `uv run pytest` still runs it all."""

from __future__ import annotations

import tomllib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def _project(path: str) -> dict:
    return tomllib.loads((REPO_ROOT / path / "pyproject.toml").read_text())


def test_final_is_a_member_that_never_installs_its_app() -> None:
    root, final = _project("."), _project("final")

    assert "final" in root["tool"]["uv"]["workspace"]["members"]
    assert final["tool"]["uv"]["package"] is False, (
        "final/ must stay a virtual project: installed, its `app` would shadow every chapter's"
    )


def test_the_root_environment_has_every_runtime_dependency_of_final() -> None:
    root, final = _project("."), _project("final")

    missing = set(final["project"]["dependencies"]) - set(root["project"]["dependencies"])

    assert not missing, (
        f"final/pyproject.toml needs {sorted(missing)}, which the root project lacks: add them "
        "to the root's dependencies too, or `uv run pytest` at the root cannot run final/tests"
    )
