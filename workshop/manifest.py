"""The manifest (`chapters/workshop.toml`): the single source of truth for the chapters.

The `workshop` command, `workshop dev verify`, the tests and the docs site's hook all read it
through `load_manifest()`, so nothing about a chapter is written down twice.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT_ENV = "WORKSHOP_ROOT"  # points the command at another checkout (the tests use copies)
MANIFEST_PATH = Path("chapters/workshop.toml")
SERVICES = ("postgres", "redis")
KINDS = ("exercises", "write-tests")


class ManifestError(ValueError):
    """The manifest is malformed; the message names the chapter and the key."""


@dataclass(frozen=True)
class Exercise:
    id: str  # "<chapter id>.<name>", stable: progress and test markers use it
    title: str
    files: tuple[str, ...]  # what the learner edits, relative to the chapter's directory
    tests: tuple[str, ...]  # the test files that check it, relative to the chapter's directory
    hints: tuple[str, ...]  # layered: a nudge, the concept, the shape of the code
    # Minutes a learner needs for it in class (the chapter's exercise_minutes is their sum),
    # and whether the one-day plan does it in class (core) or leaves it as homework.
    minutes: int | None = None
    core: bool = True
    # The production features of final/ this exercise teaches (the finished-service page
    # lists every feature with the chapter and the exercise or worked section teaching it).
    features: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The part after the dot: `config.settings` -> `settings`."""
        return self.id.split(".", 1)[1]


@dataclass(frozen=True)
class WorkedSection:
    """Code the chapter gives and its page explains, with tests of its own that pass on the
    starter: a production feature worth knowing that is not worth an exercise."""

    id: str  # "<chapter id>.<name>", like an exercise's
    title: str
    files: tuple[str, ...]  # where the code is, relative to the chapter's directory
    tests: tuple[str, ...]  # its tests (no exercise marker: they pass on the starter)
    features: tuple[str, ...]

    @property
    def name(self) -> str:
        """The part after the dot: `database.trailing_slash` -> `trailing_slash`."""
        return self.id.split(".", 1)[1]


@dataclass(frozen=True)
class Chapter:
    id: str
    number: str  # "01"
    title: str
    summary: str
    services: tuple[str, ...]
    teaching_minutes: int
    exercise_minutes: int
    objectives: tuple[str, ...]
    key_points: tuple[str, ...]
    scaffolding: tuple[str, ...]
    exercises: tuple[Exercise, ...]
    worked: tuple[WorkedSection, ...] = ()
    # The questions the chapter answers: its page asks them first, to frame the reading.
    questions: tuple[str, ...] = ()
    # "exercises": the chapter's own tests check the learner's code (the default).
    # "write-tests": the learner writes the tests; `checker` names the module that checks them.
    kind: str = "exercises"
    checker: str | None = None
    # A write-tests chapter's planted faults: a data file, from the repository's root.
    faults: str | None = None

    @property
    def short_title(self) -> str:
        """The title up to its colon: "Configuration"."""
        return self.title.split(":", 1)[0]

    @property
    def slug(self) -> str:
        return f"{self.number}-{self.id}"

    @property
    def directory(self) -> Path:
        """The learner's workspace, relative to the repository root."""
        return Path("chapters") / self.slug

    @property
    def solution_directory(self) -> Path:
        return Path("solutions") / self.slug

    @property
    def docs_page(self) -> Path:
        return Path("docs/chapters") / f"{self.slug}.md"

    @property
    def minutes(self) -> int:
        return self.teaching_minutes + self.exercise_minutes

    def exercise(self, reference: str) -> Exercise:
        """An exercise by full id (`config.settings`), name (`settings`) or number (`2`)."""
        for position, exercise in enumerate(self.exercises, start=1):
            if reference in (exercise.id, exercise.name, str(position)):
                return exercise
        known = ", ".join(exercise.name for exercise in self.exercises) or "none yet"
        raise KeyError(f"chapter {self.number} has no exercise {reference!r} (known: {known})")


@dataclass(frozen=True)
class Manifest:
    root: Path
    chapters: tuple[Chapter, ...]

    def chapter(self, reference: str) -> Chapter:
        """A chapter by number (`01`, `1`), id (`config`) or slug (`01-config`)."""
        wanted = reference.strip().strip("/").removeprefix("chapters/")
        for chapter in self.chapters:
            if wanted in (chapter.id, chapter.slug) or (
                wanted.isdigit() and int(wanted) == int(chapter.number)
            ):
                return chapter
        known = ", ".join(f"{chapter.number} ({chapter.id})" for chapter in self.chapters)
        raise KeyError(f"there is no chapter {reference!r}; the chapters are {known}")

    def previous(self, chapter: Chapter) -> Chapter | None:
        index = self.chapters.index(chapter)
        return self.chapters[index - 1] if index else None

    def exercise(self, exercise_id: str) -> tuple[Chapter, Exercise]:
        chapter_id = exercise_id.split(".", 1)[0]
        chapter = self.chapter(chapter_id)
        return chapter, chapter.exercise(exercise_id)

    @property
    def services(self) -> tuple[str, ...]:
        """Every service some chapter needs, in a stable order."""
        needed = {service for chapter in self.chapters for service in chapter.services}
        return tuple(service for service in SERVICES if service in needed)


def default_root() -> Path:
    """The checkout the command works on: $WORKSHOP_ROOT, else the one holding this package."""
    if configured := os.environ.get(ROOT_ENV):
        return Path(configured).resolve()
    return Path(__file__).resolve().parents[1]


def load_manifest(root: Path | None = None) -> Manifest:
    root = (root or default_root()).resolve()
    path = root / MANIFEST_PATH
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ManifestError(f"no manifest at {path}") from error
    except tomllib.TOMLDecodeError as error:
        raise ManifestError(f"{path} is not valid TOML: {error}") from error
    chapters = tuple(_chapter(entry, position) for position, entry in enumerate(data["chapters"]))
    _check_unique([chapter.id for chapter in chapters], "chapter id")
    _check_unique([chapter.number for chapter in chapters], "chapter number")
    _check_unique(
        [section_id for chapter in chapters for section_id in _section_ids(chapter)],
        "exercise or worked section id",
    )
    return Manifest(root=root, chapters=chapters)


def _section_ids(chapter: Chapter) -> list[str]:
    """The ids of a chapter's exercises, then of its worked sections."""
    return [exercise.id for exercise in chapter.exercises] + [
        worked.id for worked in chapter.worked
    ]


# A TOML table as tomllib reads it.
Table = dict[str, Any]


# --- reading one entry, with messages that say where the problem is -------------------------


def _chapter(entry: Table, position: int) -> Chapter:
    where = f"chapter #{position + 1} ({entry.get('id', '?')})"
    reader = _Reader(entry, where)
    chapter_id = reader.text("id")
    kind = reader.text("kind", default="exercises")
    if kind not in KINDS:
        raise ManifestError(f"{where}: kind must be one of {KINDS}, not {kind!r}")
    services = reader.texts("services")
    if unknown := set(services) - set(SERVICES):
        raise ManifestError(f"{where}: unknown services {sorted(unknown)}; use {SERVICES}")
    checker = reader.text("checker", default="") or None
    if kind == "write-tests" and not checker:
        raise ManifestError(f"{where}: a write-tests chapter names its `checker` module")
    exercises = tuple(
        _exercise(item, chapter_id, f"{where}, exercise #{index + 1}")
        for index, item in enumerate(entry.get("exercises", []))
    )
    worked = tuple(
        _worked(item, chapter_id, f"{where}, worked section #{index + 1}")
        for index, item in enumerate(entry.get("worked", []))
    )
    number = reader.text("number")
    if not (number.isdigit() and len(number) == 2):
        raise ManifestError(f"{where}: number must be two digits, like '01', not {number!r}")
    return Chapter(
        id=chapter_id,
        number=number,
        title=reader.text("title"),
        summary=reader.text("summary"),
        services=services,
        teaching_minutes=reader.minutes("teaching_minutes"),
        exercise_minutes=reader.minutes("exercise_minutes"),
        objectives=reader.texts("objectives"),
        key_points=reader.texts("key_points"),
        scaffolding=reader.texts("scaffolding", default=()),
        exercises=exercises,
        worked=worked,
        questions=reader.texts("questions", default=()),
        kind=kind,
        checker=checker,
        faults=reader.text("faults", default="") or None,
    )


def _exercise(entry: Table, chapter_id: str, where: str) -> Exercise:
    reader = _Reader(entry, where)
    exercise_id = reader.text("id")
    if not exercise_id.startswith(f"{chapter_id}.") or exercise_id == f"{chapter_id}.":
        raise ManifestError(f"{where}: the id {exercise_id!r} must look like '{chapter_id}.name'")
    return Exercise(
        id=exercise_id,
        title=reader.text("title"),
        files=reader.texts("files"),
        tests=reader.texts("tests"),
        hints=reader.texts("hints"),
        minutes=reader.minutes("minutes") if "minutes" in entry else None,
        core=reader.flag("core", default=True),
        features=reader.texts("features", default=()),
    )


def _worked(entry: Table, chapter_id: str, where: str) -> WorkedSection:
    reader = _Reader(entry, where)
    worked_id = reader.text("id")
    if not worked_id.startswith(f"{chapter_id}.") or worked_id == f"{chapter_id}.":
        raise ManifestError(f"{where}: the id {worked_id!r} must look like '{chapter_id}.name'")
    return WorkedSection(
        id=worked_id,
        title=reader.text("title"),
        files=reader.texts("files"),
        tests=reader.texts("tests"),
        features=reader.texts("features"),
    )


class _Reader:
    """Typed access to one TOML table, failing with the table's location."""

    _MISSING = object()

    def __init__(self, entry: Table, where: str) -> None:
        self.entry = entry
        self.where = where

    def _get(self, key: str, default: object) -> object:
        value = self.entry.get(key, default)
        if value is self._MISSING:
            raise ManifestError(f"{self.where}: `{key}` is missing")
        return value

    def text(self, key: str, default: object = _MISSING) -> str:
        value = self._get(key, default)
        if not isinstance(value, str):
            raise ManifestError(f"{self.where}: `{key}` must be a string")
        return value

    def texts(self, key: str, default: object = _MISSING) -> tuple[str, ...]:
        value = self._get(key, default)
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ManifestError(f"{self.where}: `{key}` must be a list of strings")
        return tuple(value)

    def flag(self, key: str, default: bool) -> bool:
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise ManifestError(f"{self.where}: `{key}` must be true or false")
        return value

    def minutes(self, key: str) -> int:
        value = self._get(key, self._MISSING)
        if not isinstance(value, int) or value <= 0:
            raise ManifestError(f"{self.where}: `{key}` must be a positive whole number")
        return value


def _check_unique(values: list[str], what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ManifestError(f"the {what} {value!r} appears twice")
        seen.add(value)
