"""Output for the `workshop` command: colour in a terminal, plain text everywhere else.

Plain output (a pipe, a CI log, a test) has no escape codes, no wrapping and ASCII marks, so
it can be read, grepped and compared.
"""

from __future__ import annotations

import sys

from rich.console import Console

_console = Console(highlight=False, soft_wrap=True)

# status -> (terminal mark, plain mark, colour)
_MARKS = {
    "passed": ("✓", "[pass]", "green"),
    "failing": ("✗", "[FAIL]", "red"),
    "not run": ("·", "[ -- ]", "yellow"),
    "not checked": ("·", "[ -- ]", "dim"),
    "warning": ("!", "[warn]", "yellow"),
    "info": ("·", "[info]", "dim"),
}


def is_terminal() -> bool:
    return _console.is_terminal


def out(text: str = "", *, style: str | None = None) -> None:
    if is_terminal():
        _console.print(text, style=style, markup=False)
    else:
        print(text, flush=True)


def clear() -> None:
    """A clean screen in a terminal (each `watch` report starts at the top); else nothing."""
    if is_terminal():
        _console.clear()


def err(text: str) -> None:
    """Problems go to stderr, so that piping the normal output stays clean."""
    if is_terminal():
        Console(stderr=True, highlight=False, soft_wrap=True).print(text, style="red", markup=False)
    else:
        print(text, file=sys.stderr, flush=True)


def mark(status: str) -> str:
    terminal, plain, _ = _MARKS[status]
    return terminal if is_terminal() else plain


def colour(status: str) -> str:
    return _MARKS[status][2]


def heading(text: str) -> None:
    out(text, style="bold")


def command(text: str) -> str:
    """A command to type, quoted the same way in every message."""
    return f"`{text}`"
