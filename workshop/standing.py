"""Where a learner stands, exercise by exercise: for `workshop status`, its JSON and its one
line for the instructor.

An exercise is
- "passed": the learner's code passed its tests at the last check;
- "solved": its files were copied from the solution with `workshop solve` (and did not fail
  a check since);
- "given": the learner moved on to a later chapter, whose starter already holds it;
- "failing" or "not checked".
The first three count as done.
"""

from __future__ import annotations

from dataclasses import dataclass

from workshop.manifest import Chapter, Exercise, Manifest
from workshop.progress import Progress

DONE = ("passed", "solved", "given")


@dataclass(frozen=True)
class ExerciseStanding:
    exercise: Exercise
    status: str  # passed, solved, given, failing, not checked
    checked_at: str | None
    hints_shown: int

    @property
    def done(self) -> bool:
        return self.status in DONE


@dataclass(frozen=True)
class ChapterStanding:
    chapter: Chapter
    available: bool  # present in this checkout
    exercises: tuple[ExerciseStanding, ...]

    @property
    def done(self) -> int:
        return sum(standing.done for standing in self.exercises)

    def count(self, status: str) -> int:
        return sum(standing.status == status for standing in self.exercises)


@dataclass(frozen=True)
class Standing:
    participant: str
    current: Chapter | None
    chapters: tuple[ChapterStanding, ...]

    @property
    def done(self) -> int:
        return sum(chapter.done for chapter in self.chapters)

    @property
    def total(self) -> int:
        return sum(len(chapter.exercises) for chapter in self.chapters)

    def count(self, status: str) -> int:
        return sum(chapter.count(status) for chapter in self.chapters)

    @property
    def last_check(self) -> str | None:
        times = [s.checked_at for c in self.chapters for s in c.exercises if s.checked_at]
        return max(times) if times else None

    def of(self, chapter: Chapter) -> ChapterStanding:
        return next(standing for standing in self.chapters if standing.chapter == chapter)

    def summary(self) -> str:
        """One line an instructor can collect from every learner."""
        parts = [self.participant]
        if self.current is not None:
            here = self.of(self.current)
            parts.append(
                f"chapter {self.current.number} {self.current.short_title} "
                f"{here.done}/{len(here.exercises)}"
            )
        copied, given = self.count("solved"), self.count("given")
        extra = ", ".join(
            text
            for text in (
                f"{copied} copied with solve" if copied else "",
                f"{given} skipped" if given else "",
            )
            if text
        )
        parts.append(f"workshop {self.done}/{self.total} done" + (f" ({extra})" if extra else ""))
        parts.append(f"last check {self.last_check or 'never'}")
        return " | ".join(parts)

    def as_json(self) -> dict[str, object]:
        return {
            "version": 1,
            "participant": self.participant,
            "current_chapter": self.current.number if self.current else None,
            "done": self.done,
            "total": self.total,
            "solved": self.count("solved"),
            "given": self.count("given"),
            "last_check": self.last_check,
            "summary": self.summary(),
            "chapters": [
                {
                    "number": chapter.chapter.number,
                    "id": chapter.chapter.id,
                    "title": chapter.chapter.title,
                    "available": chapter.available,
                    "done": chapter.done,
                    "total": len(chapter.exercises),
                    "exercises": [
                        {
                            "id": standing.exercise.id,
                            "status": standing.status,
                            "checked_at": standing.checked_at,
                            "hints_shown": standing.hints_shown,
                        }
                        for standing in chapter.exercises
                    ],
                }
                for chapter in self.chapters
            ],
        }


def standing(
    manifest: Manifest, progress: Progress, current: Chapter | None, participant: str
) -> Standing:
    position = manifest.chapters.index(current) if current else -1
    chapters = []
    for index, chapter in enumerate(manifest.chapters):
        exercises = []
        for exercise in chapter.exercises:
            entry = progress.of(exercise.id)
            if index < position and entry.status != "passed" and not entry.solved:
                status = "given"  # moved on: the current chapter's starter holds it
            elif entry.status == "failing":
                status = "failing"  # also after a solve, when the code was changed since
            elif entry.solved:
                status = "solved"
            else:
                status = entry.status
            exercises.append(
                ExerciseStanding(exercise, status, entry.checked_at, entry.hints_shown)
            )
        available = (manifest.root / chapter.directory).is_dir()
        chapters.append(ChapterStanding(chapter, available, tuple(exercises)))
    return Standing(participant, current, tuple(chapters))
