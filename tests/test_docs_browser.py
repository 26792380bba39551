"""The built site in a real browser: headless Chromium (the system's), served from a local HTTP
server under a sub-path, as a project site is published.

Every built page is opened at a desktop and at a phone width. A page fails on a JavaScript
error, a console error, a failed local request, a request to any other host, a diagram left as
mermaid source or drawn too small to read on the phone, and, on the desktop, a code block or a
table wider than the column. The finished service's /docs and /redoc are opened the same way.
Screenshots of every page go to WORKSHOP_SCREENSHOTS_DIR (default .workshop/docs-screenshots/,
ignored by git); WORKSHOP_UPDATE_DOCS_SCREENSHOTS=1 also renews the Swagger UI picture that
the finished service's page shows (docs/assets/screenshots/swagger-ui.png).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
from docs_browsing import (
    CHROMIUM_FLAGS,
    DESKTOP,
    PHONE,
    Watch,
    built_pages,
    overflowing_code,
    overflowing_tables,
    screenshot_name,
    serve,
    small_diagrams,
    wait_for_diagrams,
    watch,
)
from playwright.sync_api import BrowserContext, Page, sync_playwright
from test_docs_build import SITE_PATH_PREFIX, built_site  # noqa: F401  (one build per session)

from workshop.manifest import load_manifest

REPO_ROOT = Path(__file__).resolve().parents[1]
FIRST_CHAPTER = load_manifest(REPO_ROOT).chapters[0]
SWAGGER_PICTURE = REPO_ROOT / "docs" / "assets" / "screenshots" / "swagger-ui.png"
SERVICE_START_TIMEOUT_SECONDS = 60

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site_url(built_site: Path) -> Iterator[str]:  # noqa: F811
    with serve(built_site, SITE_PATH_PREFIX) as url:
        yield url


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
    with (
        sync_playwright() as playwright
    ):  # chromium_executable: tests/conftest.py says how to get it
        context = playwright.chromium.launch_persistent_context(
            user_data_dir=tmp_path_factory.mktemp("chromium-profile"),  # a fresh profile
            executable_path=chromium_executable,
            args=CHROMIUM_FLAGS,
            headless=True,
            viewport=DESKTOP,
        )
        yield context
        context.close()


@pytest.fixture
def tab(browser: BrowserContext) -> Iterator[Page]:
    page = browser.new_page()
    yield page
    page.close()


def _report(problems: dict[str, list[str]]) -> str:
    return "\n".join(
        f"{page}:\n" + "\n".join(f"  - {problem}" for problem in found)
        for page, found in problems.items()
        if found
    )


def _open(tab: Page, seen: Watch, url: str) -> list[str]:
    seen.reset()
    response = tab.goto(url, wait_until="load")
    if response is None or response.status != 200:
        return [f"answered {response.status if response else 'nothing'}"]
    tab.wait_for_load_state("networkidle")
    return wait_for_diagrams(tab)


# --- every page, at two widths ----------------------------------------------------------------


def test_every_page_reads_well_on_a_desktop(
    tab: Page,
    site_url: str,
    built_site: Path,  # noqa: F811
    screenshots: Path,
) -> None:
    seen = watch(tab, site_url)
    tab.set_viewport_size(DESKTOP)
    problems: dict[str, list[str]] = {}
    pages = built_pages(built_site)
    for page_path in pages:
        found = _open(tab, seen, site_url + page_path)
        tab.screenshot(path=screenshots / screenshot_name(page_path, "desktop"))
        if tab.locator(".md-content").count():  # a site page (not a Locust report)
            found += overflowing_code(tab) + overflowing_tables(tab)
        problems[page_path] = found + seen.problems()
    print(f"\n  {len(pages)} pages at {DESKTOP['width']} px; screenshots in {screenshots}")
    assert not any(problems.values()), f"pages that fail on a desktop:\n{_report(problems)}"


def test_every_page_reads_well_on_a_phone(
    tab: Page,
    site_url: str,
    built_site: Path,  # noqa: F811
    screenshots: Path,
) -> None:
    seen = watch(tab, site_url)
    tab.set_viewport_size(PHONE)
    problems: dict[str, list[str]] = {}
    pages = built_pages(built_site)
    for page_path in pages:
        found = _open(tab, seen, site_url + page_path)
        tab.screenshot(path=screenshots / screenshot_name(page_path, "phone"))
        problems[page_path] = found + small_diagrams(tab) + seen.problems()
    assert not any(problems.values()), f"pages that fail on a phone:\n{_report(problems)}"


def test_the_checks_see_what_goes_wrong(tab: Page, tmp_path: Path) -> None:
    """The rules above, on a page made to break each of them, so they cannot pass vacuously."""
    (tmp_path / "broken.html").write_text(
        '<html><body><div class="md-content"><div class="md-typeset">'
        '<pre><code style="display:block;width:200px;overflow:auto">' + "x" * 400 + "</code></pre>"
        '<img src="https://cdn.example/logo.svg"><img src="missing.png">'
        '<pre class="mermaid"><code>graph TD; A--&gt;B</code></pre>'
        "<script>console.error('boom'); throw new Error('broken on purpose')</script>"
        "</div></div></body></html>"
    )
    with serve(tmp_path, "/") as url:
        seen = watch(tab, url)
        tab.goto(url + "broken.html", wait_until="load")
        tab.wait_for_load_state("networkidle")
        assert seen.remote_requests == ["https://cdn.example/logo.svg"]
        assert any("broken on purpose" in error for error in seen.page_errors)
        assert "boom" in seen.console_errors
        assert any("missing.png" in failure for failure in seen.failed_requests)
        assert overflowing_code(tab), "a 400-character line in a 200 px block must be flagged"
        assert any("mermaid source" in problem for problem in wait_for_diagrams(tab, 1_000))


# --- the ways a site is opened ----------------------------------------------------------------


def test_a_missing_page_keeps_its_style_under_the_sub_path(
    tab: Page, site_url: str, screenshots: Path
) -> None:
    seen = watch(tab, site_url)
    missing = f"{site_url}no/such/page/"
    response = tab.goto(missing, wait_until="load")
    assert response is not None, "the server did not answer"
    assert response.status == 404, f"a missing page should answer 404, not {response.status}"
    tab.wait_for_load_state("networkidle")
    header = tab.evaluate("getComputedStyle(document.querySelector('.md-header')).backgroundColor")
    assert header not in {"", "rgba(0, 0, 0, 0)"}, (
        "the 404 page lost its stylesheet under a sub-path: set site_url (WORKSHOP_SITE_URL) "
        "to the published address, sub-path included"
    )
    others = [failure for failure in seen.failed_requests if not failure.endswith(missing)]
    assert not others, f"the 404 page's assets did not load: {others}"
    assert not seen.remote_requests, f"the 404 page asked the internet: {seen.remote_requests}"
    tab.screenshot(path=screenshots / "desktop-404.png")


def test_the_site_works_opened_from_a_folder(
    browser: BrowserContext,
    built_site: Path,  # noqa: F811
    screenshots: Path,
) -> None:
    """Double-clicking site/index.html: styles, links between pages, search and diagrams."""
    tab = browser.new_page()
    seen = watch(tab, "file:///")
    try:
        tab.goto((built_site / "index.html").as_uri(), wait_until="load")
        assert not wait_for_diagrams(tab), "the chapter map is not drawn from a folder"
        tab.locator("a.md-button", has_text="Get started").first.click()
        tab.wait_for_load_state("load")
        assert tab.url.endswith("getting-started.html"), f"links must name files: {tab.url}"
        tab.wait_for_function("typeof __index === 'object'")  # the inlined search index
        tab.locator(".md-search__input").first.click(force=True)
        tab.keyboard.type("argon2", delay=50)
        results = tab.locator(".md-search-result__item")
        results.first.wait_for(timeout=15_000)
        assert results.count() > 0, "search finds nothing when the site is opened from a folder"
        tab.screenshot(path=screenshots / "desktop-from-a-folder-search.png")
        assert not seen.problems(), seen.problems()
    finally:
        tab.close()


# --- what particular pages promise ------------------------------------------------------------


def test_hints_and_answers_start_folded(tab: Page, site_url: str) -> None:
    watch(tab, site_url)
    tab.goto(f"{site_url}chapters/{FIRST_CHAPTER.slug}.html", wait_until="load")
    hints = tab.locator("details.tip")
    assert hints.count() >= 2, "no folded hints: is the page's exercises marker filled?"
    assert not hints.first.evaluate("element => element.open"), "hints must start folded"
    deeper_hint = hints.nth(1)
    assert not deeper_hint.is_visible(), "the second hint must stay hidden inside the first"
    hints.first.locator("summary").first.click()
    assert deeper_hint.is_visible(), "opening the first hint should reveal the second's title"
    answers = tab.locator("details.answer")
    assert answers.count() >= len(FIRST_CHAPTER.exercises), "an exercise has no answer block"
    assert not any(answers.evaluate_all("all => all.map(element => element.open)")), (
        "every answer starts folded"
    )
    questions = tab.locator(".admonition.question li")
    assert questions.count() == len(FIRST_CHAPTER.questions), "the chapter's questions"


def test_dark_palette_toggle(tab: Page, site_url: str, screenshots: Path) -> None:
    seen = watch(tab, site_url)
    tab.goto(site_url, wait_until="load")
    before = tab.locator("body").get_attribute("data-md-color-scheme")
    tab.locator("form[data-md-component='palette'] label:visible").first.click()
    after = tab.locator("body").get_attribute("data-md-color-scheme")
    assert {before, after} == {"default", "slate"}, f"the toggle went from {before} to {after}"
    assert not wait_for_diagrams(tab), "the chapter map is not redrawn in the dark palette"
    assert not seen.problems(), seen.problems()
    tab.screenshot(path=screenshots / "desktop-home-dark.png")


# --- the finished service's API docs ----------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def service_url(database_url: str, redis_url: str, redis_namespace: str) -> Iterator[str]:
    """The finished service, run by uvicorn as a developer runs it (its API docs on)."""
    port = _free_port()
    environment = {
        **os.environ,
        "ENVIRONMENT": "development",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": f"{redis_namespace}docs-{uuid4().hex[:8]}:",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=REPO_ROOT / "final",
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVICE_START_TIMEOUT_SECONDS
        while time.monotonic() < deadline and server.poll() is None:
            try:
                if httpx.get(f"{url}/health/live", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            server.terminate()
            pytest.fail(f"the finished service did not start:\n{server.communicate()[1][-2000:]}")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_services_api_docs_work_offline(
    tab: Page, service_url: str, screenshots: Path, viewport: dict
) -> None:
    seen = watch(tab, service_url)
    tab.set_viewport_size(viewport)
    width = "desktop" if viewport == DESKTOP else "phone"
    problems = {}
    for path, ready in (("/docs", ".swagger-ui .opblock"), ("/redoc", "[data-section-id]")):
        seen.reset()
        response = tab.goto(service_url + path, wait_until="load")
        assert response is not None, f"{path} did not answer"
        assert response.status == 200, f"{path} answered {response.status}"
        tab.locator(ready).first.wait_for(timeout=30_000)
        tab.wait_for_load_state("networkidle")
        picture = screenshots / f"{width}-service{path.replace('/', '-')}.png"
        tab.screenshot(path=picture)
        problems[path] = seen.problems()
        if path == "/docs" and width == "desktop":
            assert tab.locator(".swagger-ui .opblock").count() >= 10, "Swagger UI lists no routes"
            if os.environ.get("WORKSHOP_UPDATE_DOCS_SCREENSHOTS") == "1":
                shutil.copyfile(picture, SWAGGER_PICTURE)
    assert not any(problems.values()), f"the API docs pages:\n{_report(problems)}"
