"""Planted faults: faulty variants of a correct service, read from a chapter's faults file.

A write-tests chapter names its faults file in the manifest (`faults = "..."`, a path from the
repository's root, kept out of the chapter's and the solution's code trees). Each fault is a
few exact edits to a copy of the solution: every edit's `old` must occur exactly once in its
file, and is replaced by `new`. The learner reads only `unnoticed` and `catch_it`; the edits
stay in the data file.

    [[faults]]
    id = "users.page_total"            # stable, "<area>.<name>"
    exercise = "testing.users"         # the manifest exercise whose tests should catch it
    unnoticed = "the `total` of GET /users counts the users on the page"
    catch_it = "create more users than fit on a page, then check `total`"

    [[faults.edits]]
    path = "app/users/service.py"      # relative to the code tree
    old = "..."
    new = "..."
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from workshop.manifest import Chapter, load_manifest


@dataclass(frozen=True)
class Edit:
    path: str  # relative to the code tree
    old: str  # must occur exactly once
    new: str


@dataclass(frozen=True)
class Fault:
    id: str  # stable, "<area>.<name>"
    exercise: str  # the manifest exercise whose test file should catch it
    unnoticed: str  # what the faulty service does, completing "Your tests pass on a service where"
    catch_it: str  # what a test that catches it does
    edits: tuple[Edit, ...]


class FaultDoesNotApply(RuntimeError):
    """An edit's anchor is not in the code tree exactly once: the solution changed under it."""


class FaultsFileError(ValueError):
    """The faults file is missing or malformed; the message names the file and the entry."""


def plant(fault: Fault, tree: Path) -> None:
    """Apply the fault's edits to a copy of the correct service at `tree`."""
    for edit in fault.edits:
        path = tree / edit.path
        if not path.is_file():
            raise FaultDoesNotApply(f"fault {fault.id}: {edit.path} is not in the code tree")
        text = path.read_text(encoding="utf-8")
        found = text.count(edit.old)
        if found != 1:
            raise FaultDoesNotApply(
                f"fault {fault.id}: expected its anchor once in {edit.path}, found it {found} "
                f"times:\n{edit.old}"
            )
        path.write_text(text.replace(edit.old, edit.new), encoding="utf-8")


def planted_faults(chapter: Chapter) -> tuple[Fault, ...]:
    """The faults the chapter's manifest entry names (none when it names no faults file)."""
    if chapter.faults is None:
        return ()
    return load_faults(load_manifest().root / chapter.faults)


def load_faults(path: Path) -> tuple[Fault, ...]:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise FaultsFileError(f"{path}: {error}") from error
    try:
        return tuple(_fault(entry) for entry in document["faults"])
    except (KeyError, TypeError) as error:
        raise FaultsFileError(f"{path}: every fault needs {error} (see faults.py)") from error


def _fault(entry: dict[str, object]) -> Fault:
    edits = entry["edits"]
    if not isinstance(edits, list) or not edits:
        raise TypeError(f"fault {entry.get('id', '?')}: at least one [[faults.edits]]")
    return Fault(
        id=str(entry["id"]),
        exercise=str(entry["exercise"]),
        unnoticed=str(entry["unnoticed"]),
        catch_it=str(entry["catch_it"]),
        edits=tuple(Edit(str(e["path"]), str(e["old"]), str(e["new"])) for e in edits),
    )
