"""Chapter pages teach, then answer: no answer is shown unfolded.

Two checks. In the Markdown (after the hook filled the markers), every include of a file that
holds an answer (solutions/, final/, the root compose file, a later chapter) sits inside a
collapsed block (docs/hooks/page_rules.py, which also stops the build). In the built HTML,
no code block outside a `<details>` shows the lines a chapter's solution adds to its starter,
however they got there (an include from elsewhere, or pasted).
"""

from __future__ import annotations

import importlib.util
import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest
from test_docs_build import built_site  # noqa: F401  (the fixture: one build per session)

from workshop.manifest import load_manifest

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "docs" / "hooks"))

import page_rules  # noqa: E402

CHAPTERS = load_manifest(REPO_ROOT).chapters
# A line is an answer line when the solution adds it and it says something (not `)` or `pass`).
SHORTEST_ANSWER_LINE = 12
# An unfolded block may quote a line or two of an answer while it explains; three is a leak.
MOST_ANSWER_LINES_UNFOLDED = 2


def _rendered(chapter) -> str:
    """The chapter page's Markdown with its markers filled, as the build sees it."""
    spec = importlib.util.spec_from_file_location(
        "docs_workshop_hook_answers", REPO_ROOT / "docs" / "hooks" / "site_hook.py"
    )
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    hook._manifest = load_manifest(REPO_ROOT)
    page = SimpleNamespace(file=SimpleNamespace(src_uri=f"chapters/{chapter.slug}.md"))
    config = SimpleNamespace(repo_url=None, edit_uri=None)
    markdown = (REPO_ROOT / chapter.docs_page).read_text(encoding="utf-8")
    return hook.MARKER_LINE.sub(
        lambda match: hook._render(match[1], match[2], page, hook.Links(page.file.src_uri), config),
        markdown,
    )


# --- the rule itself --------------------------------------------------------------------------


def _problems(markdown: str, chapter: int = 2) -> list[str]:
    return [str(problem) for problem in page_rules.unfolded_answers(markdown, chapter)]


@pytest.mark.parametrize(
    "page",
    [
        '```python\n--8<-- "solutions/02-database/app/main.py"\n```\n',
        '```python\n--8<-- "final/app/main.py:lifespan"\n```\n',
        '```yaml\n--8<-- "docker-compose.yml"\n```\n',
        '```python\n--8<-- "chapters/03-cache/app/main.py"\n```\n',
        '!!! note "Open"\n\n    ```python\n    --8<-- "solutions/02-database/x.py"\n    ```\n',
        '???+ answer "Open by default"\n\n    ```python\n    --8<-- "solutions/02-database/x.py"\n'
        "    ```\n",
        '??? answer "Folded"\n\n    text\n\n```python\n--8<-- "solutions/02-database/x.py"\n```\n',
    ],
    ids=["solution", "final", "compose", "later-chapter", "admonition", "open-details", "after"],
)
def test_an_answer_outside_a_collapsed_block_is_caught(page: str) -> None:
    assert _problems(page), f"this page shows an answer unfolded, and the rule missed it:\n{page}"


@pytest.mark.parametrize(
    "page",
    [
        '??? answer "Try it first: the answer"\n\n    ```python\n'
        '    --8<-- "solutions/02-database/app/main.py"\n    ```\n',
        '??? answer "Try it first"\n\n    === "app/main.py"\n\n        ```python\n'
        '        --8<-- "final/app/main.py"\n        ```\n',
        '```python\n--8<-- "chapters/02-database/app/main.py:lifespan"\n```\n',
        '```python\n--8<-- "chapters/01-config/app/main.py"\n```\n',
        ';--8<-- "solutions/02-database/app/main.py"\n',
    ],
    ids=["folded", "folded-in-tabs", "own-starter", "earlier-starter", "escaped"],
)
def test_folded_answers_and_the_chapters_own_code_pass(page: str) -> None:
    assert not _problems(page), _problems(page)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda chapter: chapter.slug)
def test_no_chapter_page_includes_an_answer_unfolded(chapter) -> None:
    problems = page_rules.unfolded_answers(_rendered(chapter), int(chapter.number))
    assert not problems, f"docs/chapters/{chapter.slug}.md:\n" + "\n".join(map(str, problems))


# --- what the reader sees ---------------------------------------------------------------------


class _CodeBlocks(HTMLParser):
    """The text of every `<pre>`, and whether it sits inside a `<details>`."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks: list[tuple[bool, str]] = []
        self._details = 0
        self._pre: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "details":
            self._details += 1
        elif tag == "pre":
            self._pre = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "details":
            self._details -= 1
        elif tag == "pre" and self._pre is not None:
            self.blocks.append((self._details > 0, "".join(self._pre)))
            self._pre = None

    def handle_data(self, data: str) -> None:
        if self._pre is not None:
            self._pre.append(data)


def answer_lines(chapter, root: Path = REPO_ROOT) -> set[str]:
    """The lines the chapter's solution adds to its starter, in the files its exercises edit."""
    lines: set[str] = set()
    for exercise in chapter.exercises:
        for path in exercise.files:
            starter_file = root / chapter.directory / path
            starter = set()
            if starter_file.is_file():
                starter = {line.strip() for line in starter_file.read_text().splitlines()}
            solution_file = root / chapter.solution_directory / path
            if not solution_file.is_file():  # a stale manifest: the chapter contract says so
                continue
            solution = solution_file.read_text().splitlines()
            lines |= {
                line.strip()
                for line in solution
                if len(line.strip()) >= SHORTEST_ANSWER_LINE and line.strip() not in starter
            }
    return lines


def unfolded_answer_lines(html: str, answers: set[str]) -> list[list[str]]:
    """For each code block outside a `<details>` that shows too much answer: those lines."""
    parser = _CodeBlocks()
    parser.feed(html)
    leaks = []
    for folded, text in parser.blocks:
        shown = [line.strip() for line in text.splitlines() if line.strip() in answers]
        if not folded and len(shown) > MOST_ANSWER_LINES_UNFOLDED:
            leaks.append(shown)
    return leaks


def test_the_html_check_sees_an_unfolded_answer() -> None:
    chapter = CHAPTERS[0]
    solution = (REPO_ROOT / chapter.solution_directory / chapter.exercises[0].files[0]).read_text()
    page = f"<p>text</p><pre><code>{solution}</code></pre>"
    assert unfolded_answer_lines(page, answer_lines(chapter)), "an unfolded solution file"
    folded = f"<details><summary>Try it first</summary><pre><code>{solution}</code></pre></details>"
    assert not unfolded_answer_lines(folded, answer_lines(chapter))


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda chapter: chapter.slug)
def test_no_chapter_page_shows_an_answer_unfolded(chapter, built_site: Path) -> None:  # noqa: F811
    html = (built_site / "chapters" / f"{chapter.slug}.html").read_text(encoding="utf-8")
    leaks = unfolded_answer_lines(html, answer_lines(chapter))
    assert not leaks, (
        f"docs/chapters/{chapter.slug}.md shows lines of its solution outside a collapsed "
        'block; put them in `??? answer "Try it first: the answer"`:\n'
        + "\n".join(f"  - {lines[:3]}" for lines in leaks)
    )


# --- highlighted lines ------------------------------------------------------------------------


@pytest.fixture
def excerpt_root(tmp_path: Path) -> Path:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "main.py").write_text(
        "import os\n\n\ndef create_app():\n"
        "    # --8<-- [start:body]\n    settings = load()\n\n    return build(settings)\n"
        "    # --8<-- [end:body]\n"
    )
    return tmp_path


def _highlight(spec: str, root: Path) -> list[str]:
    page = f'```python hl_lines="{spec}"\n--8<-- "app/main.py:body"\n```\n'
    return [str(problem) for problem in page_rules.highlight_problems(page, root)]


def test_highlighted_lines_inside_the_excerpt_pass(excerpt_root: Path) -> None:
    assert not _highlight("1 3", excerpt_root), "lines 1 and 3 of the dedented section are code"


def test_a_highlight_past_the_excerpt_is_caught(excerpt_root: Path) -> None:
    assert any("has 3 lines" in problem for problem in _highlight("1 4-5", excerpt_root))


def test_a_highlight_on_a_blank_line_is_caught(excerpt_root: Path) -> None:
    assert any("blank" in problem for problem in _highlight("2", excerpt_root))


def test_a_focused_excerpt_renders_with_its_lines_highlighted(excerpt_root: Path) -> None:
    """The chain the pages use: a section, dedented, with hl_lines counted inside it."""
    import markdown

    page = '```python hl_lines="1"\n--8<-- "app/main.py:body"\n```\n'
    html = markdown.markdown(
        page,
        extensions=["pymdownx.snippets", "pymdownx.superfences", "pymdownx.highlight"],
        extension_configs={
            "pymdownx.snippets": {"base_path": [str(excerpt_root)], "dedent_subsections": True},
        },
    )
    highlighted = re.findall(r'<span class="hll">(.*?)\n', html)
    assert len(highlighted) == 1, html
    assert "settings" in highlighted[0], f"line 1 of the section is highlighted: {highlighted}"
    assert "[start:" not in html, "the section's markers never show"
