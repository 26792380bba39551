"""Comparing code trees and naming what an exercise's files share: for `workshop diff`,
`workshop reset NN EXERCISE` and `workshop solve NN EXERCISE`."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from workshop.manifest import Chapter, Exercise


@dataclass(frozen=True)
class FileChange:
    path: str  # relative to both trees
    old: list[str]
    new: list[str]

    @property
    def changed(self) -> bool:
        return self.old != self.new

    @property
    def added(self) -> int:
        return sum(line.startswith("+") for line in self._body())

    @property
    def removed(self) -> int:
        return sum(line.startswith("-") for line in self._body())

    def _body(self) -> Iterator[str]:
        for line in difflib.unified_diff(self.old, self.new, n=0):
            if not line.startswith(("+++", "---")):
                yield line

    def unified(self, old_label: str, new_label: str) -> Iterator[str]:
        for line in difflib.unified_diff(self.old, self.new, old_label, new_label):
            yield line.rstrip("\n")


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True) if path.is_file() else []


def compare(old_root: Path, new_root: Path, paths: list[str]) -> list[FileChange]:
    return [FileChange(path, lines(old_root / path), lines(new_root / path)) for path in paths]


def stat_lines(changes: list[FileChange]) -> list[str]:
    """`app/main.py | +12 -3` per changed file, then the totals (like `git diff --stat`)."""
    changed = [change for change in changes if change.changed]
    if not changed:
        return ["No differences."]
    width = max(len(change.path) for change in changed)
    rows = [f" {c.path:<{width}} | +{c.added} -{c.removed}" for c in changed]
    added = sum(change.added for change in changed)
    removed = sum(change.removed for change in changed)
    rows.append(f" {len(changed)} file(s) changed, {added} line(s) added, {removed} removed")
    return rows


def sharing(chapter: Chapter, exercise: Exercise) -> list[Exercise]:
    """The chapter's other exercises whose files include one of this exercise's files."""
    files = set(exercise.files)
    return [other for other in chapter.exercises if other != exercise and files & set(other.files)]


def covered_by(chapter: Chapter, paths: list[str]) -> list[Exercise]:
    """The exercises all of whose files are among `paths` (solved by copying those files)."""
    chosen = set(paths)
    return [exercise for exercise in chapter.exercises if set(exercise.files) <= chosen]
