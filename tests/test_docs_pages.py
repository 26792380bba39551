"""The docs pages agree with the manifest, and every file they include exists."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from test_docs_build import built_site  # noqa: F401  (the fixture: one build per session)

from workshop.manifest import load_manifest

REPO_ROOT = Path(__file__).resolve().parents[1]
DOCS = REPO_ROOT / "docs"
CHAPTERS = load_manifest(REPO_ROOT).chapters
CHAPTER_MARKERS = ("objectives", "exercises", "check", "key-points")
TOP_LEVEL_SECTIONS = (
    "Home",
    "Getting started",
    "Windows and macOS",
    "Chapters",
    "The finished service",
    "Benchmarks",
    "Instructor guide",
    "Cheat sheet",
    "Glossary",
    "Where next",
)

# `--8<-- "path"`, `--8<-- "path:3:20"` or `--8<-- "path:section"`; `;--8<--` is commented out.
SNIPPET_LINE = re.compile(r"""^\s*(?<!;)--8<--\s+["']([^"']+)["']\s*$""", re.MULTILINE)
# The block form: `--8<--` alone, then one path per line, then `--8<--`.
SNIPPET_BLOCK = re.compile(r"^\s*--8<--\s*$\n(.*?)^\s*--8<--\s*$", re.MULTILINE | re.DOTALL)


def _pages() -> list[Path]:
    return sorted(path for path in DOCS.rglob("*.md") if "hooks" not in path.parts)


def _includes(text: str) -> list[str]:
    found = SNIPPET_LINE.findall(text)
    for block in SNIPPET_BLOCK.findall(text):
        found += [line.strip() for line in block.splitlines() if line.strip()]
    return found


def _split_include(include: str) -> tuple[str, str | None]:
    """`app/x.py:10:20` -> (`app/x.py`, None); `app/x.py:engine` -> (`app/x.py`, `engine`)."""
    path, _, selector = include.partition(":")
    if not selector or re.fullmatch(r"[\d:,-]*", selector):
        return path, None
    return path, selector


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda chapter: chapter.slug)
def test_every_chapter_has_a_page_with_the_four_markers_in_order(chapter) -> None:
    page = DOCS / "chapters" / f"{chapter.slug}.md"
    assert page.is_file(), (
        f"chapter {chapter.number} is in chapters/workshop.toml but has no page: write "
        f"docs/chapters/{chapter.slug}.md (until then the site shows a placeholder)."
    )
    text = page.read_text(encoding="utf-8")
    positions = []
    for name in CHAPTER_MARKERS:
        marker = f"<!-- workshop:{name} -->"
        assert text.count(marker) == 1, (
            f"docs/chapters/{chapter.slug}.md must carry `{marker}` exactly once, on its own "
            "line; the docs hook fills it from the manifest."
        )
        positions.append(text.index(marker))
    assert positions == sorted(positions), (
        f"docs/chapters/{chapter.slug}.md: put the markers in the order {CHAPTER_MARKERS}."
    )


@pytest.mark.parametrize("page", _pages(), ids=lambda page: str(page.relative_to(DOCS)))
def test_every_snippet_include_exists(page: Path) -> None:
    for include in _includes(page.read_text(encoding="utf-8")):
        path, section = _split_include(include)
        target = REPO_ROOT / path
        assert target.is_file(), (
            f"docs/{page.relative_to(DOCS)} includes {path!r}, which does not exist "
            "(snippet paths are relative to the repository root)."
        )
        if section:
            source = target.read_text(encoding="utf-8")
            for edge in ("start", "end"):
                assert f"[{edge}:{section}]" in source, (
                    f"docs/{page.relative_to(DOCS)} includes the section {section!r} of "
                    f"{path}, which has no `--8<-- [{edge}:{section}]` marker."
                )


class _NavLinks(HTMLParser):
    """(href, label) of every link of the primary navigation, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "a" and "md-nav__link" in values.get("class", "").split():
            self._href, self._text = values.get("href", ""), []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            label = " ".join("".join(self._text).split())
            if not self._href.startswith("#"):  # the table of contents, not the navigation
                self.links.append((self._href, label))
            self._href = None


def _nav_links(site: Path) -> list[tuple[str, str]]:
    """The primary navigation of a page at the site's root (the home page hides its own)."""
    html = (site / "getting-started.html").read_text(encoding="utf-8")
    start = html.index('class="md-nav md-nav--primary')
    parser = _NavLinks()
    parser.feed(html[start : html.index('<div class="md-content"', start)])
    return parser.links


def test_the_navigation_has_the_sections_in_order(built_site: Path) -> None:  # noqa: F811
    labels = [label for _, label in _nav_links(built_site)]
    missing = [section for section in TOP_LEVEL_SECTIONS if section not in labels]
    assert not missing, f"the navigation lacks {missing}; see nav in mkdocs.yml"
    order = [labels.index(section) for section in TOP_LEVEL_SECTIONS]
    assert order == sorted(order), f"the navigation's order should be {TOP_LEVEL_SECTIONS}"


def test_the_navigation_lists_every_chapter_in_manifest_order(built_site: Path) -> None:  # noqa: F811
    links = _nav_links(built_site)
    chapter_links = [(href, label) for href, label in links if href.startswith("chapters/0")]
    # Links name files (`.html`): the site also works opened from a folder (the offline plugin).
    expected = [(f"chapters/{c.slug}.html", f"{c.number} · {c.title}") for c in CHAPTERS]
    assert chapter_links == expected, (
        "the Chapters section of the navigation must list the manifest's chapters, in order, "
        f"with their titles.\nexpected: {expected}\nfound:    {chapter_links}"
    )


ARTICLE_TITLE = (
    "Build Production-Ready FastAPI Microservices with SQLAlchemy and Redis: "
    "Complete Async Architecture Guide"
)


@pytest.mark.parametrize("page", _pages(), ids=lambda page: str(page.relative_to(DOCS)))
def test_a_page_that_mentions_the_article_names_it(page: Path) -> None:
    text = " ".join(page.read_text(encoding="utf-8").split())  # titles may wrap across lines
    if re.search(r"\bthe article\b", text, flags=re.IGNORECASE):
        assert ARTICLE_TITLE in text, (
            f"docs/{page.relative_to(DOCS)} mentions the article the workshop grew from; give "
            f"its title, *{ARTICLE_TITLE}*, so a reader can find it."
        )
