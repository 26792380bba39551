"""The docs site builds with `mkdocs build --strict` and needs nothing from the internet.

The built site is shared with the other docs tests through the `built_site` fixture (imported
from this module), so a test session builds it once.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
BUILD_TIMEOUT_SECONDS = 300
# The tests build the site as a project site is published, under a sub-path of its host.
SITE_PATH_PREFIX = "/workshop/"
SITE_URL = f"http://docs.invalid{SITE_PATH_PREFIX}"

# <link rel=...> values that make the browser fetch something.
FETCHING_LINK_RELS = {"stylesheet", "preload", "modulepreload", "prefetch", "icon", "manifest"}
CSS_URL = re.compile(r"""(?:url\(\s*|@import\s+(?:url\(\s*)?)["']?([^"')\s;]+)""")
# A script that sets a src or href to a remote address: `.src="https://..."`, `href:"//..."`.
JS_REMOTE_ASSIGNMENT = re.compile(r"""\b(?:src|href)\s*[=:]\s*["'`]((?:https?:)?//[^"'`]+)""")


def build_site(destination: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(destination)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_SECONDS,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "WORKSHOP_SITE_URL": SITE_URL},
        check=False,
    )


_BUILDS: dict[str, tuple[Path, subprocess.CompletedProcess[str]]] = {}


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site built once per session with --strict; a failed build fails every user."""
    if "site" not in _BUILDS:
        destination = tmp_path_factory.mktemp("docs-site")
        _BUILDS["site"] = (destination, build_site(destination))
    destination, result = _BUILDS["site"]
    assert result.returncode == 0, (
        "`uv run mkdocs build --strict` failed; its last lines:\n"
        + "\n".join((result.stdout + result.stderr).strip().splitlines()[-25:])
    )
    return destination


def is_remote(url: str) -> bool:
    parts = urlsplit(url.strip())
    return parts.scheme in {"http", "https"} or (not parts.scheme and url.startswith("//"))


class _ResourceCollector(HTMLParser):
    """Collects the URLs a page makes the browser fetch: scripts, styles, fonts, media."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag in {"script", "img", "iframe", "source", "video", "audio", "embed"}:
            self.urls.append(values.get("src", ""))
        elif tag == "link" and FETCHING_LINK_RELS & set(values.get("rel", "").split()):
            self.urls.append(values.get("href", ""))
        self._in_style = tag == "style"
        if "style" in values:
            self.urls.extend(CSS_URL.findall(values["style"]))

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.urls.extend(CSS_URL.findall(data))

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False


def remote_resources(site: Path) -> dict[str, list[str]]:
    """Every remote URL that a built page, stylesheet or script would load, by file."""
    found: dict[str, list[str]] = {}
    for path in sorted(site.rglob("*")):
        if path.suffix == ".html":
            collector = _ResourceCollector()
            collector.feed(path.read_text(encoding="utf-8"))
            urls = collector.urls
        elif path.suffix == ".css":
            urls = CSS_URL.findall(path.read_text(encoding="utf-8"))
        elif path.suffix in {".js", ".mjs"}:
            urls = JS_REMOTE_ASSIGNMENT.findall(path.read_text(encoding="utf-8", errors="replace"))
        else:
            continue
        if remote := [url for url in urls if url and is_remote(url)]:
            found[str(path.relative_to(site))] = remote
    return found


def test_strict_build_passes(built_site: Path) -> None:
    assert (built_site / "index.html").is_file(), "the build wrote no home page"


def test_no_page_loads_anything_from_the_internet(built_site: Path) -> None:
    remote = remote_resources(built_site)
    assert not remote, (
        "the built site loads remote scripts, styles or fonts, so it breaks offline; vendor "
        f"them under docs/assets/ instead: {remote}"
    )


def test_fonts_and_mermaid_are_local(built_site: Path) -> None:
    home = (built_site / "index.html").read_text(encoding="utf-8")
    assert "fonts.googleapis.com" not in home, "set theme.font: false in mkdocs.yml"
    assert 'src="assets/vendor/mermaid/mermaid.min.js"' in home, (
        "the home page has a diagram, so it must load the vendored mermaid "
        "(docs/overrides/main.html); otherwise Material fetches mermaid from a CDN"
    )
    assert (built_site / "assets/vendor/mermaid/mermaid.min.js").stat().st_size > 1_000_000


def test_the_scanner_sees_remote_resources(tmp_path: Path) -> None:
    """The offline check itself: it must flag each way a page can pull from a CDN."""
    (tmp_path / "page.html").write_text(
        '<link rel="stylesheet" href="https://cdn.example/site.css">'
        '<script src="//cdn.example/lib.js"></script>'
        "<style>@import url(https://fonts.example/css);</style>"
        '<a href="https://github.com/some/repo">a plain link is fine</a>'
    )
    (tmp_path / "extra.css").write_text("@font-face{src:url('https://fonts.example/f.woff2')}")
    (tmp_path / "app.js").write_text('s.src="https://unpkg.example/x.js";')
    found = remote_resources(tmp_path)
    assert sorted(found) == ["app.js", "extra.css", "page.html"], found
    assert len(found["page.html"]) == 3, found
