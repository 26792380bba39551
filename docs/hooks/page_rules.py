"""Rules every page's Markdown keeps, checked when the site is built (and by tests/test_docs_*).

- **Answers stay folded.** On a chapter page, code included from where an answer lives (any
  `solutions/` file, anything in `final/`, the root `docker-compose.yml`, a later chapter's
  workspace) sits inside a collapsed block (`???`, not `???+`): the reader tries first.
- **Highlights point at code.** A fence with `hl_lines` around an include highlights lines
  that exist in the excerpt and are not blank, so an excerpt that shrank or moved is caught.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import markdown

# `--8<-- "path"`, `--8<-- "path:section"`, `--8<-- "path:3:20"`; `;--8<--` is escaped.
SNIPPET_LINE = re.compile(r"""^(?P<indent>\s*)(?<!;)-+8<-+\s+["'](?P<target>[^"']+)["']\s*$""")
COLLAPSED_BLOCK = re.compile(r"^\s*\?\?\?(?!\+)\s")  # `??? type "title"`; `???+` starts open
FENCE_OPEN = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
HL_LINES = re.compile(r"""hl_lines=["']([^"']*)["']""")


@dataclass(frozen=True)
class Problem:
    line: int  # 1-based, in the page's Markdown after the hook's markers were filled
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def include_path(target: str) -> str:
    """`app/x.py:section` or `app/x.py:3:20` -> `app/x.py`."""
    return target.split(":", 1)[0].strip()


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def is_folded(lines: list[str], index: int) -> bool:
    """Whether line `index` sits inside a collapsed block, at any depth.

    Python-Markdown nests blocks by indentation: walking up, each non-blank line indented less
    than everything below it so far opens an enclosing block.
    """
    threshold = _indent(lines[index])
    for line in reversed(lines[:index]):
        if not line.strip() or _indent(line) >= threshold:
            continue
        if COLLAPSED_BLOCK.match(line):
            return True
        threshold = _indent(line)
        if threshold == 0:
            return False
    return False


def _chapter_number(path: str) -> int | None:
    match = re.match(r"chapters/(\d\d)-", path)
    return int(match[1]) if match else None


def holds_answers(path: str, chapter_number: int) -> bool:
    """Whether a file shows answers to chapter `chapter_number`'s exercises."""
    if path.startswith(("solutions/", "final/")) or path == "docker-compose.yml":
        return True
    later = _chapter_number(path)  # a later chapter's starter is this chapter's solution
    return later is not None and later > chapter_number


def unfolded_answers(page_markdown: str, chapter_number: int) -> list[Problem]:
    """Includes of answer files outside a collapsed block, on chapter `chapter_number`'s page."""
    lines = page_markdown.splitlines()
    problems = []
    for index, line in enumerate(lines):
        match = SNIPPET_LINE.match(line)
        if not match:
            continue
        path = include_path(match["target"])
        if holds_answers(path, chapter_number) and not is_folded(lines, index):
            problems.append(
                Problem(
                    index + 1,
                    f"`{path}` shows an answer, so it goes inside a collapsed block: "
                    '`??? answer "Try it first: the answer"` with the include indented under '
                    "it. To explain a concept unfolded, include a section of the chapter's own "
                    "starter (`chapters/NN-slug/...`) instead.",
                )
            )
    return problems


# --- highlighted lines ------------------------------------------------------------------------


def _hl_numbers(spec: str) -> list[int]:
    numbers = []
    for part in spec.replace(",", " ").split():
        first, _, last = part.partition("-")
        numbers.extend(range(int(first), int(last or first) + 1))
    return numbers


def _fences(lines: list[str]):
    """(index of the opening line, info string, body lines) of each fenced block."""
    index = 0
    while index < len(lines):
        opening = FENCE_OPEN.match(lines[index])
        if not opening:
            index += 1
            continue
        fence = opening["fence"]
        closing = re.compile(rf"^\s*{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        end = index + 1
        while end < len(lines) and not closing.match(lines[end]):
            end += 1
        yield index, opening["info"], lines[index + 1 : end]
        index = end + 1


def _expand_snippets(body: list[str], root: Path) -> list[str]:
    """The lines the snippets extension makes of `body`, configured as in mkdocs.yml."""
    converter = markdown.Markdown(
        extensions=["pymdownx.snippets"],
        extension_configs={
            "pymdownx.snippets": {
                "base_path": [str(root)],
                "check_paths": True,
                "dedent_subsections": True,
            }
        },
    )
    return converter.preprocessors["snippet"].run([line.strip() for line in body])


def highlight_problems(page_markdown: str, root: Path) -> list[Problem]:
    """Fences whose `hl_lines` point past their included excerpt, or at a blank line."""
    lines = page_markdown.splitlines()
    problems = []
    for index, info, body in _fences(lines):
        spec = HL_LINES.search(info)
        if not spec or not any(SNIPPET_LINE.match(line) for line in body):
            continue
        excerpt = _expand_snippets(body, root)
        for number in _hl_numbers(spec[1]):
            if number > len(excerpt):
                problems.append(
                    Problem(
                        index + 1,
                        f"hl_lines names line {number}, but the excerpt has {len(excerpt)} "
                        "lines: did the included code shrink?",
                    )
                )
            elif not excerpt[number - 1].strip():
                problems.append(
                    Problem(
                        index + 1,
                        f"hl_lines names line {number}, which is blank in the excerpt: did "
                        "the included code move?",
                    )
                )
    return problems
