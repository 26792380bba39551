"""MkDocs hooks: the site is filled from the repository, so nothing is written down twice.

- The "Chapters" section of the navigation lists the manifest's chapters, in its order and
  with its titles. A chapter whose page is not written yet gets a short generated page that
  says so (and `tests/test_docs_pages.py` fails until the real one exists).
- A line holding only `<!-- workshop:NAME -->` is replaced by Markdown built from the
  manifest, `workshop.schedule`, the finished service's code or the benchmark baseline:

  on a chapter page   objectives, exercises, check, key-points
  on any page         chapter-table, chapter-map, schedule-one-day, schedule-two-day,
                      settings, endpoints, benchmark-guide, benchmark-results,
                      docstring PATH (a Python module's docstring, PATH from the repo root)

  A marker whose data is missing stops the build with a message that says what to add.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import chapter_markers
import reference_markers
from chapter_markers import Links, MissingData, chapter_page
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

if TYPE_CHECKING:
    from workshop.manifest import Manifest

MARKER_LINE = re.compile(
    r"^<!--\s*workshop:([a-z0-9-]+)(?:\s+([\w./-]+))?\s*-->[ \t]*$", re.MULTILINE
)
ANY_MARKER = re.compile(r"<!--\s*workshop:")
CHAPTERS_SECTION = "Chapters"

_manifest: Manifest | None = None
_generated_pages: set[str] = set()


def _chapters():
    if _manifest is None:
        raise PluginError("the manifest was not loaded: on_config did not run")
    return _manifest.chapters


def _two_day_groups() -> list[tuple[str, tuple]]:
    """The chapters of each day of the two-day schedule, for the chapter map's rows."""
    from workshop import schedule  # not at the top: see on_config

    return [(f"Day {day.number}", day.chapters) for day in schedule.plan(_manifest, 2).days]


def _repo_blob_url(config: MkDocsConfig) -> str:
    """`https://github.com/o/r` and `edit/main/docs/` -> `https://github.com/o/r/blob/main`."""
    branch = (config.edit_uri or "edit/main/").strip("/").split("/")[1]
    return f"{config.repo_url.rstrip('/')}/blob/{branch}"


# --- navigation and generated pages -----------------------------------------------------------


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    # Imported here, not at the top: while MkDocs loads this file, its own folder comes first
    # on sys.path and `workshop` would name this hook, not the package.
    from workshop.manifest import load_manifest

    global _manifest
    _manifest = load_manifest(reference_markers.REPO_ROOT)
    pages = [chapter_page(chapter) for chapter in _manifest.chapters]
    for entry in config.nav or []:
        if isinstance(entry, dict) and CHAPTERS_SECTION in entry:
            section = entry[CHAPTERS_SECTION]
            # Idempotent, should the same config be built twice (`mkdocs serve`).
            section[:] = [item for item in section if not _links_to(item, pages)]
            section.extend(
                {f"{chapter.number} · {chapter.title}": chapter_page(chapter)}
                for chapter in _manifest.chapters
            )
            return config
    raise PluginError(f'mkdocs.yml\'s nav needs a "{CHAPTERS_SECTION}" section for the chapters.')


def _links_to(item: object, pages: list[str]) -> bool:
    values = item.values() if isinstance(item, dict) else [item]
    return any(value in pages for value in values)


def _stub_page(chapter) -> str:
    return (
        f"# {chapter.number} · {chapter.title}\n\n"
        '!!! warning "This chapter\'s page is not written yet"\n\n'
        f"    The manifest declares chapter {chapter.number}; its page "
        f"(`docs/chapters/{chapter.slug}.md`) arrives with the chapter's code.\n\n"
        "<!-- workshop:objectives -->\n"
    )


def on_files(files: Files, config: MkDocsConfig) -> Files:
    _generated_pages.clear()
    for chapter in _chapters():
        path = chapter_page(chapter)
        if files.get_file_from_path(path) is None:
            files.append(File.generated(config, path, content=_stub_page(chapter)))
            _generated_pages.add(path)
    for site_path, source in reference_markers.baseline_files().items():
        files.append(File.generated(config, site_path, abs_src_path=str(source)))
    return files


# --- markers ----------------------------------------------------------------------------------


def _chapter_of(page: Page):
    for chapter in _chapters():
        if page.file.src_uri == chapter_page(chapter):
            return chapter
    return None


def _render(name: str, argument: str | None, page: Page, links: Links) -> str:
    if name in chapter_markers.CHAPTER_MARKERS:
        chapter = _chapter_of(page)
        if chapter is None:
            raise MissingData(f"the marker `{name}` belongs on a chapter page, not here.")
        return chapter_markers.CHAPTER_MARKERS[name](chapter, links)
    page_wide = {
        "chapter-table": lambda: chapter_markers.chapter_table(_chapters(), links),
        "chapter-map": lambda: chapter_markers.chapter_map(_two_day_groups()),
        "schedule-one-day": lambda: reference_markers.schedule_table(_manifest, 1, links),
        "schedule-two-day": lambda: reference_markers.schedule_table(_manifest, 2, links),
        "settings": reference_markers.settings_table,
        "endpoints": reference_markers.endpoints_table,
        "benchmark-results": lambda: reference_markers.benchmark_results(page.file.src_uri),
        "benchmark-guide": reference_markers.benchmark_guide,
        "docstring": lambda: reference_markers.module_docstring(argument, links),
    }
    if name not in page_wide:
        known = sorted([*chapter_markers.CHAPTER_MARKERS, *page_wide])
        raise MissingData(f"unknown marker `workshop:{name}`; the markers are {known}.")
    return page_wide[name]()


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    if page.file.src_uri in _generated_pages:
        page.edit_url = None  # nothing to edit yet
    links = Links(page_path=page.file.src_uri, repo_blob_url=_repo_blob_url(config))

    def replace(match: re.Match) -> str:
        try:
            return _render(match[1], match[2], page, links)
        except MissingData as error:
            raise MissingData(f"docs/{page.file.src_uri}: {error}") from error

    for number, line in enumerate(markdown.splitlines(), start=1):
        if ANY_MARKER.search(line) and not MARKER_LINE.fullmatch(line):
            raise PluginError(
                f"docs/{page.file.src_uri}, line {number}: a `<!-- workshop:NAME -->` marker "
                "stands alone on its line, with a name in lowercase letters and dashes."
            )
    return MARKER_LINE.sub(replace, markdown)
