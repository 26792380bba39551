"""The learner's progress, kept in `.workshop/progress.json` (ignored by git).

Everything is keyed by the manifest's stable ids, so renaming a chapter's title or moving a
file never loses progress. The file is small, human-readable and safe to delete.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

PROGRESS_FILE = Path(".workshop/progress.json")
VERSION = 1


@dataclass
class ExerciseProgress:
    status: str = "not checked"  # "passed", "failing" or "not checked"
    checked_at: str | None = None
    hints_shown: int = 0
    solved: bool = False  # its files were copied from the solution (`workshop solve`)


@dataclass
class Progress:
    path: Path
    current_chapter: str | None = None  # set by `workshop start N`; else the first unfinished
    exercises: dict[str, ExerciseProgress] = field(default_factory=dict)

    def of(self, exercise_id: str) -> ExerciseProgress:
        """The exercise's progress, read-only: an unknown id reads as "not checked"."""
        return self.exercises.get(exercise_id) or ExerciseProgress()

    def entry(self, exercise_id: str) -> ExerciseProgress:
        """The exercise's progress, to change: created when missing."""
        return self.exercises.setdefault(exercise_id, ExerciseProgress())

    def record(self, exercise_id: str, *, passed: bool) -> None:
        entry = self.entry(exercise_id)
        entry.status = "passed" if passed else "failing"
        entry.checked_at = datetime.now(UTC).isoformat(timespec="seconds")

    def forget(self, exercise_ids: list[str]) -> None:
        for exercise_id in exercise_ids:
            self.exercises.pop(exercise_id, None)

    def save(self) -> None:
        data = {
            "version": VERSION,
            "current_chapter": self.current_chapter,
            "exercises": {
                exercise_id: vars(entry) for exercise_id, entry in sorted(self.exercises.items())
            },
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so an interrupted save never leaves half a file behind.
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(data, stream, indent=2)
            stream.write("\n")
        Path(temporary).replace(self.path)


def load_progress(root: Path) -> Progress:
    path = root / PROGRESS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Progress(path=path)
    except (OSError, ValueError):
        # A damaged file is not worth a crash: start over, and the next save repairs it.
        return Progress(path=path)
    known = set(ExerciseProgress.__dataclass_fields__)
    exercises = {
        exercise_id: ExerciseProgress(**{k: v for k, v in entry.items() if k in known})
        for exercise_id, entry in data.get("exercises", {}).items()
        if isinstance(entry, dict)
    }
    return Progress(path=path, current_chapter=data.get("current_chapter"), exercises=exercises)
