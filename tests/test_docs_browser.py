"""The built site in a real browser: headless Chromium, served from a local HTTP server.

It opens the home page, a chapter page and the finished service's page, checks that they
render, that every diagram became an SVG (not raw mermaid text), and that the browser asked
nothing of any host but the local server. Screenshots go to WORKSHOP_SCREENSHOTS_DIR, by
default .workshop/docs-screenshots/, and the test prints where.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, Page, sync_playwright
from test_docs_build import built_site  # noqa: F401  (the fixture: one build per session)

from workshop.manifest import load_manifest

REPO_ROOT = Path(__file__).resolve().parents[1]
FIRST_CHAPTER = load_manifest(REPO_ROOT).chapters[0]
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DIAGRAM_TIMEOUT_MS = 20_000


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site_url(built_site: Path) -> Iterator[str]:  # noqa: F811
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=built_site))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def screenshots() -> Path:
    default = REPO_ROOT / ".workshop" / "docs-screenshots"
    folder = Path(os.environ.get("WORKSHOP_SCREENSHOTS_DIR") or default)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser(
    tmp_path_factory: pytest.TempPathFactory, chromium_executable: str
) -> Iterator[BrowserContext]:
    executable = chromium_executable  # tests/conftest.py: says how to install it if missing
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            user_data_dir=tmp_path_factory.mktemp("chromium-profile"),  # a fresh profile
            executable_path=executable,
            args=CHROMIUM_FLAGS,
            headless=True,
            viewport={"width": 1280, "height": 900},
        )
        yield context
        context.close()


@pytest.fixture
def page(browser: BrowserContext, site_url: str) -> Iterator[Page]:
    """A tab that refuses, and remembers, every request that is not for the local server."""
    tab = browser.new_page()
    local_host = urlsplit(site_url).netloc
    tab.remote_requests = []  # type: ignore[attr-defined]

    def only_local(route, request) -> None:
        if urlsplit(request.url).scheme in {"http", "https"} and (
            urlsplit(request.url).netloc != local_host
        ):
            tab.remote_requests.append(request.url)  # type: ignore[attr-defined]
            route.abort()
        else:
            route.continue_()

    tab.route("**/*", only_local)
    tab.page_errors = []  # type: ignore[attr-defined]
    tab.on("pageerror", lambda error: tab.page_errors.append(str(error)))  # type: ignore[attr-defined]
    yield tab
    tab.close()


def _open(page: Page, url: str) -> None:
    response = page.goto(url, wait_until="load")
    assert response is not None, f"{url}: no response"
    assert response.status == 200, f"{url} answered {response.status}"


def _rendered_diagrams(page: Page) -> list[str]:
    """The diagram type of each rendered mermaid SVG on the page.

    Material draws each diagram into a *closed* shadow root, which page scripts cannot see;
    the DevTools protocol can (`pierce`), so the test looks at what the reader sees.
    """
    session = page.context.new_cdp_session(page)
    try:
        root = session.send("DOM.getDocument", {"depth": -1, "pierce": True})["root"]
    finally:
        session.detach()
    kinds: list[str] = []

    def attributes(node: dict) -> dict[str, str]:
        flat = node.get("attributes", [])
        return dict(zip(flat[::2], flat[1::2], strict=True))

    def walk(node: dict, in_diagram: bool) -> None:
        is_host = (
            node.get("nodeName") == "DIV" and "mermaid" in attributes(node).get("class", "").split()
        )
        if in_diagram and node.get("nodeName", "").lower() == "svg":
            kinds.append(attributes(node).get("aria-roledescription", "unknown"))
            return
        for shadow in node.get("shadowRoots", []):
            walk(shadow, in_diagram or is_host)
        for child in node.get("children", []):
            walk(child, in_diagram)

    walk(root, in_diagram=False)
    return kinds


def _wait_for_diagrams(page: Page, expected: int) -> list[str]:
    # Material replaces each `<pre class="mermaid">` with a `<div class="mermaid">` host once
    # mermaid has drawn it; a `pre` left behind means raw diagram text on the page.
    page.wait_for_function(
        "n => document.querySelectorAll('div.mermaid').length >= n",
        arg=expected,
        timeout=DIAGRAM_TIMEOUT_MS,
    )
    assert page.locator("pre.mermaid").count() == 0, "a diagram is still shown as raw text"
    return _rendered_diagrams(page)


def _assert_offline(page: Page) -> None:
    assert not page.remote_requests, (  # type: ignore[attr-defined]
        f"the page asked the internet for {page.remote_requests}; vendor it under docs/assets/"  # type: ignore[attr-defined]
    )
    assert not page.page_errors, f"JavaScript errors: {page.page_errors}"  # type: ignore[attr-defined]


def _screenshot(
    page: Page, folder: Path, name: str, capsys: pytest.CaptureFixture, element: str = ""
) -> None:
    """The window as the reader sees it, or one element of it (e.g. a diagram).

    Not a full-page shot: that would paint the sticky header in the middle of the page.
    """
    path = folder / f"{name}.png"
    if element:
        page.locator(element).first.screenshot(path=str(path))
    else:
        page.screenshot(path=str(path))
    assert path.stat().st_size > 5_000, f"{path} is suspiciously small: a blank page?"
    with capsys.disabled():
        print(f"\n  screenshot: {path}")


def test_home_page_renders_with_its_chapter_map(
    page: Page, site_url: str, screenshots: Path, capsys: pytest.CaptureFixture
) -> None:
    _open(page, site_url)
    assert page.locator("h1").first.inner_text().strip(), "the home page has no title"
    diagrams = _wait_for_diagrams(page, expected=1)
    assert diagrams == ["flowchart-v2"], f"the chapter map is not a drawn flowchart: {diagrams}"
    assert page.locator("table a[href^='chapters/']").count() >= 8, "the chapter table has no links"
    _assert_offline(page)
    _screenshot(page, screenshots, "home", capsys)


def test_chapter_page_renders_with_folded_hints(
    page: Page, site_url: str, screenshots: Path, capsys: pytest.CaptureFixture
) -> None:
    _open(page, f"{site_url}chapters/{FIRST_CHAPTER.slug}/")
    title = page.locator("h1").first.inner_text()
    assert title.strip(), "the chapter page has no title"
    assert page.locator(".admonition.abstract").count() == 1, "the objectives box is missing"
    hints = page.locator("details.tip")
    assert hints.count() >= 2, "no folded hints: is the page's exercises marker filled?"
    assert not hints.first.evaluate("element => element.open"), "hints must start folded"
    deeper_hint = hints.nth(1)
    assert not deeper_hint.is_visible(), "the second hint must stay hidden inside the first"
    hints.first.locator("summary").first.click()
    assert deeper_hint.is_visible(), "opening the first hint should reveal the second's title"
    assert page.locator("details.success").count() >= 1, "no folded solution files block"
    assert page.locator("button[data-md-type=copy]").count() >= 1, "no copy button on code blocks"
    _assert_offline(page)
    page.evaluate("window.scrollTo(0, 0)")
    _screenshot(page, screenshots, f"chapter-{FIRST_CHAPTER.slug}", capsys)
    page.locator("h3", has=page.locator("text=Exercise 1")).first.scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, -120)")  # keep the exercise's title under the header
    _screenshot(page, screenshots, f"chapter-{FIRST_CHAPTER.slug}-hints", capsys)


def test_finished_service_page_draws_its_architecture(
    page: Page, site_url: str, screenshots: Path, capsys: pytest.CaptureFixture
) -> None:
    _open(page, f"{site_url}finished-service/")
    diagrams = _wait_for_diagrams(page, expected=1)
    assert diagrams, "the architecture diagram did not become an SVG"
    assert "error" not in diagrams, f"mermaid could not parse a diagram: {diagrams}"
    database_url = page.locator("td code").filter(has_text=re.compile(r"^DATABASE_URL$"))
    assert database_url.count() == 1, "the generated settings table is missing"
    _assert_offline(page)
    _screenshot(page, screenshots, "finished-service", capsys)
    _screenshot(page, screenshots, "finished-service-diagram", capsys, element="div.mermaid")


def test_dark_palette_toggle(
    page: Page, site_url: str, screenshots: Path, capsys: pytest.CaptureFixture
) -> None:
    _open(page, site_url)
    before = page.locator("body").get_attribute("data-md-color-scheme")
    page.locator("form[data-md-component='palette'] label:visible").first.click()
    after = page.locator("body").get_attribute("data-md-color-scheme")
    assert {before, after} == {"default", "slate"}, f"the toggle went from {before} to {after}"
    _wait_for_diagrams(page, expected=1)
    _assert_offline(page)
    _screenshot(page, screenshots, "home-dark", capsys)
    _screenshot(page, screenshots, "home-dark-chapter-map", capsys, element="div.mermaid")
