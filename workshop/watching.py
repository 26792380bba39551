"""`workshop watch`: check now, then again each time a source file of the chapter is saved."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from watchfiles import Change, DefaultFilter, watch

from workshop.console import out

SOURCE_SUFFIXES = (".py", ".env", ".toml", ".ini")
TICK_MILLISECONDS = 500  # how often the watcher hands back control when nothing changed


class SourceFilter(DefaultFilter):
    """Source files only: caches, editors' swap files and the like never trigger a check."""

    def __call__(self, change: Change, path: str) -> bool:
        return super().__call__(change, path) and path.endswith(SOURCE_SUFFIXES)


def watch_and_check(directory: Path, check: Callable[[], None], *, poll: bool) -> None:
    """Run `check` once the watcher is live, then after every save, until Ctrl-C."""
    force_polling = True if poll else None  # None: watchfiles decides (WSL, its env variable)
    while True:
        changes = watch(
            directory,
            watch_filter=SourceFilter(),
            force_polling=force_polling,
            yield_on_timeout=True,
            rust_timeout=TICK_MILLISECONDS,
        )
        try:
            next(changes)  # the watcher is live now: a save during the first check is not lost
        except OSError as error:
            if force_polling:
                raise
            out(f"File events are unavailable here ({error}); polling instead.")
            force_polling = True
            continue
        check()
        for changed in changes:
            if changed:
                check()
