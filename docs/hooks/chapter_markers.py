"""Markdown for the chapter markers, built from the manifest (chapters/workshop.toml).

Every function returns Markdown that the page's own Markdown pipeline then renders, so
admonitions, folded blocks and tables work as if the author had written them by hand.
A function raises `MissingData` rather than render an empty section.
"""

from __future__ import annotations

import difflib
import posixpath
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mkdocs.exceptions import PluginError

SERVICE_NAMES = {"postgres": "PostgreSQL", "redis": "Redis"}
HINT_LAYERS = ("a nudge", "the concept", "the shape of the code")


class MissingData(PluginError):
    """A marker's data is missing: the build stops and says what to add where."""


@dataclass(frozen=True)
class Links:
    """Where a page lives and how to name the repository's files."""

    page_path: str  # the page's path inside docs/, e.g. "chapters/01-config.md"
    # "https://github.com/owner/repo/blob/main" when mkdocs.yml's repo_url is set; else None,
    # and files are named, not linked: the site never guesses where the repository lives.
    repo_blob_url: str | None = None

    def to_page(self, target: str) -> str:
        """A link from this page to another page, relative as MkDocs wants it."""
        return posixpath.relpath(target, posixpath.dirname(self.page_path) or ".")

    def repo_file(self, path: str) -> str:
        """`path` as code, linked to the repository when its address is configured."""
        if self.repo_blob_url is None:
            return f"`{path}`"
        return f"[`{path}`]({self.repo_blob_url}/{path})"


def chapter_page(chapter) -> str:
    """The chapter's page inside docs/: `chapters/01-config.md`."""
    return f"chapters/{chapter.slug}.md"


def _require(chapter, field: str, value):
    if not value:
        raise MissingData(
            f"chapter {chapter.number} ({chapter.id}) has no `{field}` in chapters/workshop.toml, "
            "and its page uses a marker that shows it: add it to the manifest."
        )
    return value


def _indent(text: str, levels: int = 1) -> str:
    return textwrap.indent(text.strip(), "    " * levels)


def _code_list(paths: Sequence[str]) -> str:
    return ", ".join(f"`{path}`" for path in paths)


def _minutes(minutes: int) -> str:
    hours, rest = divmod(int(minutes), 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest:02d} min" if rest else f"{hours} h"


def _services(chapter) -> str:
    names = [SERVICE_NAMES.get(service, service) for service in chapter.services]
    return ", ".join(names) if names else "nothing (no database, no Redis)"


# --- the four markers of a chapter page -------------------------------------------------------


def questions(chapter) -> str:
    """The questions the chapter answers: read them first, answer them at the end."""
    items = "\n".join(
        f"1. {question}" for question in _require(chapter, "questions", chapter.questions)
    )
    return (
        '!!! question "Questions to keep in mind"\n\n'
        f"{_indent('By the end of the chapter you can answer these. Try them now, too:')}\n\n"
        f"{_indent(items)}\n"
    )


def objectives(chapter, links: Links, root: Path) -> str:
    items = "\n".join(
        f"- {objective}" for objective in _require(chapter, "objectives", chapter.objectives)
    )
    teaching = _require(chapter, "teaching_minutes", chapter.teaching_minutes)
    exercising = _require(chapter, "exercise_minutes", chapter.exercise_minutes)
    body = (
        f"{chapter.summary}\n\n**After this chapter you can**\n\n{items}\n\n"
        "| Teaching | Exercises | Needs running |\n| --- | --- | --- |\n"
        f"| {_minutes(teaching)} | {_minutes(exercising)} | {_services(chapter)} |"
    )
    glance = f'!!! abstract "Chapter {chapter.number} at a glance"\n\n{_indent(body)}\n'
    return f"{glance}\n{questions(chapter)}"


def _hint_title(number: int, total: int) -> str:
    if total == len(HINT_LAYERS):
        return f"Hint {number}: {HINT_LAYERS[number - 1]}"
    return f"Hint {number} of {total}"


def _hint_blocks(hints: Sequence[str]) -> str:
    """Each hint folded inside the one before, so they open in order, one layer at a time."""
    block = ""
    for number in range(len(hints), 0, -1):
        inner = hints[number - 1].strip()
        if block:
            inner = f"{inner}\n\n{block}"
        block = f'??? tip "{_hint_title(number, len(hints))}"\n\n{_indent(inner)}\n'
    return block


LEXERS = {
    ".py": "python",
    ".toml": "toml",
    ".ini": "ini",
    ".yml": "yaml",
    ".yaml": "yaml",
    ".md": "markdown",
    ".mako": "text",
    ".json": "json",
    ".sh": "bash",
}


def lexer(path: str) -> str:
    """The highlighter's language for a file: `python`, `dockerfile`, ... or `text`."""
    name = posixpath.basename(path)
    if name == "Dockerfile" or name.endswith(".Dockerfile"):
        return "dockerfile"
    return LEXERS.get(posixpath.splitext(name)[1], "text")


def _starter_diff(root: Path, chapter, path: str) -> str | None:
    """The unified diff from the chapter's starter to its solution, or None for a new file."""
    starter = root / chapter.directory / path
    if not starter.is_file():
        return None
    solution = root / chapter.solution_directory / path
    diff = difflib.unified_diff(
        starter.read_text(encoding="utf-8").splitlines(),
        solution.read_text(encoding="utf-8").splitlines(),
        fromfile=f"chapters/{chapter.slug}/{path}",
        tofile=f"solutions/{chapter.slug}/{path}",
        lineterm="",
    )
    return "\n".join(diff) or None


def fence(content: str, info: str) -> str:
    """A fenced code block whose fence is longer than any run of backticks in `content`."""
    longest = max((len(run) for run in re.findall(r"`+", content)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{info}\n{content}\n{ticks}"


def _answer_tab(root: Path, chapter, path: str) -> str:
    solution = f"{chapter.solution_directory.as_posix()}/{path}"
    if not (root / solution).is_file():
        # The chapter contract reports the manifest's stale paths; the page says it too.
        return f'=== "{path}"\n\n    `{solution}` is not in the repository.\n'
    whole = f'```{lexer(path)} title="{solution}"\n--8<-- "{solution}"\n```'
    diff = _starter_diff(root, chapter, path)
    if diff is None:
        body = f"A new file:\n\n{whole}"
    else:
        # The diff is generated here from the two files, so it cannot drift from them.
        body = (
            "What the solution changes in the starter's file (every exercise's changes to it):"
            f"\n\n{fence(diff, 'diff')}\n\n"
            f'??? note "The whole file"\n\n{_indent(whole)}'
        )
    return f'=== "{path}"\n\n{_indent(body)}\n'


def answer_block(root: Path, chapter, exercise) -> str:
    """The exercise's answer, folded: try first, then compare."""
    tabs = "\n".join(_answer_tab(root, chapter, path) for path in exercise.files)
    body = (
        f"Make `uv run workshop check {chapter.number}` pass first: that is the exercise. Then "
        f"compare your code with the reference solution here, or run "
        f"`uv run workshop diff {chapter.number}`.\n\n{tabs}"
    )
    return f'{ANSWER_FENCE} "{ANSWER_TITLE}"\n\n{_indent(body)}\n'


# Every answer on a chapter page sits in a block like this one: folded, and saying to try first.
ANSWER_FENCE = "??? answer"
ANSWER_TITLE = "Try it first: the answer"


def exercises(chapter, links: Links, root: Path) -> str:
    directory = f"chapters/{chapter.slug}"
    sections = []
    for number, exercise in enumerate(_require(chapter, "exercises", chapter.exercises), start=1):
        if len(exercise.hints) < 2:
            raise MissingData(
                f"exercise {exercise.id} has {len(exercise.hints)} hint(s) in "
                "chapters/workshop.toml; every exercise needs at least two, layered."
            )
        if not exercise.files or not exercise.tests:
            raise MissingData(f"exercise {exercise.id} lists no `files` or no `tests`.")
        anchor = exercise.id.replace(".", "-")
        files = _code_list(f"{directory}/{path}" for path in exercise.files)
        tests = _code_list(f"{directory}/{path}" for path in exercise.tests)
        sections.append(
            f"### Exercise {number}: {exercise.title} {{ #{anchor} }}\n\n"
            f"Exercise `{exercise.id}`. You edit {files}; the tests are in {tests}.\n\n"
            f"{_hint_blocks(exercise.hints)}\n"
            f"{answer_block(root, chapter, exercise)}"
        )
    return "\n".join(sections)


def check(chapter, links: Links, root: Path) -> str:
    number = chapter.number
    return (
        "Run the chapter's tests on your code. The report lists every exercise, passed or "
        "not, with the first failure's message:\n\n"
        f"```bash\nuv run workshop check {number}\n```\n\n"
        "| When | Run |\n| --- | --- |\n"
        f"| You are stuck: the next hint, one layer at a time | `uv run workshop hint {number}` |\n"
        f"| Re-check every time you save | `uv run workshop watch {number}` |\n"
        f"| Compare your code with the solution | `uv run workshop diff {number}` |\n"
    )


def key_points(chapter, links: Links, root: Path) -> str:
    items = "\n".join(f"- {point}" for point in _require(chapter, "key_points", chapter.key_points))
    return f'!!! success "Key points"\n\n{_indent(items)}\n'


CHAPTER_MARKERS = {
    "objectives": objectives,
    "exercises": exercises,
    "check": check,
    "key-points": key_points,
}


# --- the course as a whole: the chapter table and the chapter map -----------------------------


def chapter_table(chapters: Sequence, links: Links) -> str:
    rows = []
    for chapter in chapters:
        link = links.to_page(chapter_page(chapter))
        rows.append(
            f"| {chapter.number} | [{chapter.title}]({link}) | {chapter.summary} "
            f"| {_minutes(chapter.teaching_minutes + chapter.exercise_minutes)} |"
        )
    total = sum(chapter.teaching_minutes + chapter.exercise_minutes for chapter in chapters)
    rows.append(
        f"| | **All chapters** | teaching and exercises, no breaks | **{_minutes(total)}** |"
    )
    header = "| # | Chapter | What the service gains | Time |\n| --- | --- | --- | --- |\n"
    return header + "\n".join(rows) + "\n"


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;")


def _map_node(chapter, new_services: Sequence[str]) -> str:
    title, _, subtitle = chapter.title.partition(":")
    label = f"<b>{chapter.number} {title}</b>"
    if subtitle:
        label += f"<br/>{subtitle.strip()}"
    if new_services:
        names = " and ".join(SERVICE_NAMES.get(service, service) for service in new_services)
        label += f"<br/><i>+ {names}</i>"
    return f'c{chapter.number}["{_mermaid_text(label)}"]'


def chapter_map(days: Sequence[tuple[str, Sequence]]) -> str:
    """The service growing chapter by chapter: one column per day of the two-day workshop.

    `days` is [(label, chapters)]; a node notes the servers its chapter starts to use. The
    chapters run top to bottom, so the map stays narrow enough to read on a phone.
    """
    lines = ["flowchart LR"]
    seen_services: set[str] = set()
    for index, (label, chapters) in enumerate(days, start=1):
        lines.append(f'    subgraph day{index}["{_mermaid_text(label)}"]')
        lines.append("        direction TB")
        for chapter in chapters:
            new = [service for service in chapter.services if service not in seen_services]
            seen_services.update(new)
            lines.append(f"        {_map_node(chapter, new)}")
        numbers = [f"c{chapter.number}" for chapter in chapters]
        if len(numbers) > 1:
            lines.append("        " + " --> ".join(numbers))
        if index == len(days):
            lines.append('        final(["The finished service"])')
            lines.append(f"        {numbers[-1]} --> final")
        lines.append("    end")
    lines.extend(f"    day{index} --> day{index + 1}" for index in range(1, len(days)))
    return "```mermaid\n" + "\n".join(lines) + "\n```\n"
