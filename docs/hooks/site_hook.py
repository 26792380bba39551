"""MkDocs hooks: the site is filled from the repository, so nothing is written down twice.

- The "Chapters" section of the navigation lists the manifest's chapters, in its order and
  with its titles. A chapter whose page is not written yet gets a short generated page that
  says so (and `tests/test_docs_pages.py` fails until the real one exists).
- A line holding only `<!-- workshop:NAME -->` is replaced by Markdown built from the
  manifest, `workshop.schedule`, the finished service's code or the benchmark baseline:

  on a chapter page   objectives (with the chapter's questions), exercises (hints and the
                      folded answer), check, key-points
  on any page         chapter-table, chapter-map, schedule-one-day, schedule-two-day,
                      settings, endpoints, benchmark PART, benchmark-guide, get-the-code,
                      docstring PATH (a Python module's docstring, PATH from the repo root)

  A marker whose data is missing stops the build with a message that says what to add.
- Every page keeps the rules of `page_rules`: answers folded on chapter pages, `hl_lines`
  that point at code. A broken rule stops the build.
- The repository's address is a setting (`repo_url`, from WORKSHOP_REPO_URL): unset, files
  are named, never linked, and pages have no edit button.
- The baseline's files are published beside the benchmarks page, its charts drawn as SVG.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import benchmark_markers
import benchmark_site
import chapter_markers
import page_rules
import reference_markers
from chapter_markers import Links, MissingData, chapter_page
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

if TYPE_CHECKING:
    from workshop.manifest import Manifest

MARKER_LINE = re.compile(
    r"^<!--\s*workshop:([a-z0-9-]+)(?:\s+([\w./-]+))?\s*-->[ \t]*$", re.MULTILINE
)
ANY_MARKER = re.compile(r"<!--\s*workshop:")
CHAPTERS_SECTION = "Chapters"
# Material's offline plugin loads this shim from a CDN; the site serves its vendored copy.
IFRAME_WORKER_CDN = "https://unpkg.com/iframe-worker/shim"
IFRAME_WORKER_LOCAL = "assets/vendor/iframe-worker/shim.js"
# Diagrams get a frame that scrolls sideways on a narrow screen instead of shrinking the text.
MERMAID_BLOCK = re.compile(r'(<pre class="mermaid">.*?</pre>)', re.DOTALL)

_manifest: Manifest | None = None
_generated_pages: set[str] = set()
_results: dict | None = None


def _chapters():
    if _manifest is None:
        raise PluginError("the manifest was not loaded: on_config did not run")
    return _manifest.chapters


def _two_day_groups() -> list[tuple[str, tuple]]:
    """The chapters of each day of the two-day schedule, for the chapter map's rows."""
    from workshop import schedule  # not at the top: see on_config

    return [(f"Day {day.number}", day.chapters) for day in schedule.plan(_manifest, 2).days]


def _repo_blob_url(config: MkDocsConfig) -> str | None:
    """`https://github.com/o/r` and `edit/main/docs/` -> `https://github.com/o/r/blob/main`."""
    if not config.repo_url:
        return None
    branch = (config.edit_uri or "edit/main/").strip("/").split("/")[1]
    return f"{config.repo_url.rstrip('/')}/blob/{branch}"


# --- configuration, navigation and generated files --------------------------------------------


@event_priority(-50)  # after the offline plugin, whose polyfill it replaces
def on_config(config: MkDocsConfig) -> MkDocsConfig:
    # Imported here, not at the top: the manifest's loader is the course's own package, and
    # this folder comes first on sys.path while MkDocs loads the hook. (The hook is not called
    # workshop.py: with this folder on sys.path, as the docs tests put it, that name would hide
    # the package from every process started afterwards, the checker's among them.)
    from workshop.manifest import load_manifest

    global _manifest, _results
    _manifest = load_manifest(reference_markers.REPO_ROOT)
    _results = benchmark_markers.load_results()
    if not config.repo_url:
        config.edit_uri = None  # an edit link needs the repository's address
    polyfills = config.extra.get("polyfills", [])
    config.extra["polyfills"] = [
        IFRAME_WORKER_LOCAL if str(url).startswith(IFRAME_WORKER_CDN) else url for url in polyfills
    ]
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
    for site_path, source in benchmark_site.published_files().items():
        files.append(File.generated(config, site_path, abs_src_path=str(source)))
    for site_path, source in benchmark_site.locust_reports().items():
        files.append(File.generated(config, site_path, abs_src_path=str(source)))
    for site_path, source in benchmark_site.locust_favicons().items():
        if files.get_file_from_path(site_path) is None:
            files.append(File.generated(config, site_path, abs_src_path=str(source)))
    if _results is not None:
        machine = benchmark_site.machine_page(_results)
        files.append(File.generated(config, benchmark_site.MACHINE_PAGE, content=machine))
        for site_path, svg in benchmark_markers.draw_charts(_results, _manifest).items():
            files.append(File.generated(config, site_path, content=svg))
    return files


# --- markers ----------------------------------------------------------------------------------


def _chapter_of(page: Page):
    for chapter in _chapters():
        if page.file.src_uri == chapter_page(chapter):
            return chapter
    return None


def _benchmark(part: str | None, page: Page) -> str:
    if _results is None:
        return (
            '!!! info "No baseline committed yet"\n\n'
            "    The results appear here once a baseline run is committed under "
            "`benchmarks/results/baseline/`.\n"
        )

    def link(site_path: str) -> str:
        return benchmark_site.relative(site_path, page.file.src_uri)

    parts = {
        "overview": lambda: benchmark_markers.overview(_results, link),
        "charts": lambda: benchmark_markers.charts_part(link),
        "scenarios": lambda: benchmark_markers.scenarios(_results),
        "targets": lambda: benchmark_markers.targets(_results),
        "chapters": lambda: benchmark_markers.chapters(_results, _manifest, link),
        "cpu": lambda: benchmark_markers.cpu(_results, link),
        "endpoints": lambda: benchmark_markers.endpoints(_results),
        "failures": lambda: benchmark_markers.failures(_results),
        "files": lambda: benchmark_markers.files(_results, link),
    }
    if part not in parts:
        raise MissingData(f"`workshop:benchmark` takes one of {sorted(parts)}, not {part!r}.")
    return parts[part]()


def _render(name: str, argument: str | None, page: Page, links: Links, config) -> str:
    if name in chapter_markers.CHAPTER_MARKERS:
        chapter = _chapter_of(page)
        if chapter is None:
            raise MissingData(f"the marker `{name}` belongs on a chapter page, not here.")
        return chapter_markers.CHAPTER_MARKERS[name](chapter, links, _manifest.root)
    page_wide = {
        "chapter-table": lambda: chapter_markers.chapter_table(_chapters(), links),
        "chapter-map": lambda: chapter_markers.chapter_map(_two_day_groups()),
        "schedule-one-day": lambda: reference_markers.schedule_table(_manifest, 1, links),
        "schedule-two-day": lambda: reference_markers.schedule_table(_manifest, 2, links),
        "features": lambda: reference_markers.features_table(_manifest, links),
        "settings": reference_markers.settings_table,
        "endpoints": reference_markers.endpoints_table,
        "benchmark": lambda: _benchmark(argument, page),
        "benchmark-guide": reference_markers.benchmark_guide,
        "get-the-code": lambda: reference_markers.get_the_code(config.repo_url),
        "docstring": lambda: reference_markers.module_docstring(argument, links),
    }
    if name not in page_wide:
        known = sorted([*chapter_markers.CHAPTER_MARKERS, *page_wide])
        raise MissingData(f"unknown marker `workshop:{name}`; the markers are {known}.")
    return page_wide[name]()


def _check_rules(markdown: str, page: Page) -> None:
    problems = page_rules.highlight_problems(markdown, reference_markers.REPO_ROOT)
    if chapter := _chapter_of(page):
        problems += page_rules.unfolded_answers(markdown, int(chapter.number))
    if problems:
        listed = "\n".join(f"  - {problem}" for problem in problems)
        raise PluginError(f"docs/{page.file.src_uri} (after its markers are filled):\n{listed}")


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    if page.file.src_uri in _generated_pages:
        page.edit_url = None  # nothing to edit yet
    links = Links(page_path=page.file.src_uri, repo_blob_url=_repo_blob_url(config))

    def replace(match: re.Match) -> str:
        try:
            return _render(match[1], match[2], page, links, config)
        except MissingData as error:
            raise MissingData(f"docs/{page.file.src_uri}: {error}") from error

    for number, line in enumerate(markdown.splitlines(), start=1):
        if ANY_MARKER.search(line) and not MARKER_LINE.fullmatch(line):
            raise PluginError(
                f"docs/{page.file.src_uri}, line {number}: a `<!-- workshop:NAME -->` marker "
                "stands alone on its line, with a name in lowercase letters and dashes."
            )
    rendered = MARKER_LINE.sub(replace, markdown)
    _check_rules(rendered, page)
    return rendered


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    return MERMAID_BLOCK.sub(r'<div class="workshop-diagram">\1</div>', html)
