"""Helpers of the docs' browser tests: a local server for the built site, and a browser tab
that records everything that goes wrong on a page.

A tab refuses (and remembers) every request to a host other than the local server, and
records page errors, console errors and failed local requests. `inspect` then looks at what a
reader sees: diagrams drawn (not left as mermaid source), diagram text large enough to read,
code blocks and tables that fit the column.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
DIAGRAM_TIMEOUT_MS = 20_000
# Mermaid writes its text at 16 px; drawn at less than 60 % of its size it is too small to read.
SMALLEST_DIAGRAM_SCALE = 0.6


# --- serving the built site under a sub-path --------------------------------------------------


def _handler(site: Path, prefix: str):
    class SiteHandler(SimpleHTTPRequestHandler):
        """The built site under `prefix`, and its 404 page for anything missing, as a host would."""

        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, directory=str(site), **kwargs)

        def log_message(self, format: str, *args: object) -> None:
            pass

        def translate_path(self, path: str) -> str:
            if not urlsplit(path).path.startswith(prefix):
                return str(site / "no such file")
            return super().translate_path("/" + path[len(prefix) :])

        def send_error(self, code: int, message: str | None = None, explain=None) -> None:
            not_found_page = site / "404.html"
            if code != HTTPStatus.NOT_FOUND or not not_found_page.is_file():
                super().send_error(code, message, explain)
                return
            body = not_found_page.read_bytes()
            self.send_response(HTTPStatus.NOT_FOUND)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

    return SiteHandler


@contextmanager
def serve(site: Path, prefix: str) -> Iterator[str]:
    """Serve `site` at http://127.0.0.1:PORT{prefix}; yields that URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site, prefix))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{prefix}"
    finally:
        server.shutdown()
        server.server_close()


def built_pages(site: Path) -> list[str]:
    """Every HTML page of the built site, relative to its root (the 404 page excepted)."""
    return sorted(
        path.relative_to(site).as_posix()
        for path in site.rglob("*.html")
        if path.name != "404.html"
    )


# --- a tab that records what goes wrong -------------------------------------------------------


@dataclass
class Watch:
    """What a tab saw go wrong since the last `reset`."""

    local_host: str
    remote_requests: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)

    def reset(self) -> None:
        for found in (
            self.remote_requests,
            self.page_errors,
            self.console_errors,
            self.failed_requests,
        ):
            found.clear()

    def problems(self) -> list[str]:
        return (
            [f"asked a host other than the local server for {url}" for url in self.remote_requests]
            + [f"JavaScript error: {error}" for error in self.page_errors]
            + [f"console error: {message}" for message in self.console_errors]
            + [f"a local request failed: {failure}" for failure in self.failed_requests]
        )


def watch(tab: Page, local_url: str) -> Watch:
    """Make `tab` refuse every non-local request and record what goes wrong."""
    seen = Watch(local_host=urlsplit(local_url).netloc)

    def only_local(route, request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in {"http", "https", "ws", "wss"} and parts.netloc != seen.local_host:
            seen.remote_requests.append(request.url)
            route.abort()
        else:
            route.continue_()

    def on_response(response) -> None:
        if response.status >= 400 and urlsplit(response.url).netloc == seen.local_host:
            seen.failed_requests.append(f"{response.status} {response.url}")

    tab.route("**/*", only_local)
    tab.on("pageerror", lambda error: seen.page_errors.append(str(error)))
    tab.on(
        "console",
        lambda message: (
            seen.console_errors.append(message.text) if message.type == "error" else None
        ),
    )
    tab.on("response", on_response)
    return seen


# --- what the reader sees ---------------------------------------------------------------------


def _attributes(node: dict) -> dict[str, str]:
    flat = node.get("attributes", [])
    return dict(zip(flat[::2], flat[1::2], strict=True))


def drawn_diagrams(tab: Page) -> list[dict]:
    """Each drawn mermaid SVG: its type, its viewBox width and its width on screen.

    Material draws each diagram into a *closed* shadow root, which page scripts cannot see;
    the DevTools protocol can (`pierce`), so the test looks at what the reader sees.
    """
    session = tab.context.new_cdp_session(tab)
    try:
        root = session.send("DOM.getDocument", {"depth": -1, "pierce": True})["root"]
        found: list[dict] = []

        def walk(node: dict, in_diagram: bool) -> None:
            is_host = node.get("nodeName") == "DIV" and "mermaid" in _attributes(node).get(
                "class", ""
            ).split(" ")
            if in_diagram and node.get("nodeName", "").lower() == "svg":
                attributes = _attributes(node)
                view_box = [float(value) for value in attributes.get("viewBox", "0 0 0 0").split()]
                box = session.send("DOM.getBoxModel", {"nodeId": node["nodeId"]})["model"]
                found.append(
                    {
                        "kind": attributes.get("aria-roledescription", "unknown"),
                        "view_width": view_box[2] if len(view_box) == 4 else 0.0,
                        "shown_width": float(box["width"]),
                    }
                )
                return
            for shadow in node.get("shadowRoots", []):
                walk(shadow, in_diagram or is_host)
            for child in node.get("children", []):
                walk(child, in_diagram)

        walk(root, in_diagram=False)
        return found
    finally:
        session.detach()


_OVERFLOWING_CODE = """
() => {
  const overflowing = new Map();
  const measure = () => {
    for (const code of document.querySelectorAll('.md-content pre > code')) {
      if (code.offsetParent === null || overflowing.has(code)) continue;
      if (code.scrollWidth > code.clientWidth + 1) {
        const pre = code.closest('.highlight') || code.parentElement;
        const title = pre.querySelector('.filename');
        const line = [...code.innerText.split('\\n')].sort((a, b) => b.length - a.length)[0];
        overflowing.set(code, `${title ? title.innerText + ': ' : ''}` +
          `${code.scrollWidth - code.clientWidth} px too wide, e.g. "${line.trim().slice(0, 60)}"`);
      }
    }
  };
  document.querySelectorAll('.md-content details').forEach(details => { details.open = true; });
  measure();
  for (const input of document.querySelectorAll('.md-content .tabbed-set > input')) {
    input.checked = true;
    measure();
  }
  return [...overflowing.values()];
}
"""

_OVERFLOWING_TABLES = """
() => [...document.querySelectorAll('.md-content .md-typeset__table table')]
  .filter(table => table.offsetParent !== null)
  .filter(table => table.scrollWidth > table.closest('.md-typeset__scrollwrap').clientWidth + 1)
  .map(table => [...table.querySelectorAll('th')].map(th => th.innerText).join(' | '))
"""


def wait_for_diagrams(tab: Page, timeout_ms: int = DIAGRAM_TIMEOUT_MS) -> list[str]:
    """Wait until every mermaid block is drawn; problems if one stays raw text or breaks."""
    expected = tab.locator("pre.mermaid, div.mermaid").count()
    if not expected:
        return []
    with contextlib.suppress(PlaywrightTimeout):  # the count below says which stayed raw
        tab.wait_for_function(
            "n => document.querySelectorAll('div.mermaid').length >= n",
            arg=expected,
            timeout=timeout_ms,
        )
    problems = []
    raw = tab.locator("pre.mermaid").count()
    if raw:
        problems.append(f"{raw} diagram(s) left as mermaid source text: mermaid could not draw it")
    drawn = drawn_diagrams(tab)
    if broken := [d for d in drawn if d["kind"] in {"error", "unknown"}]:
        problems.append(f"{len(broken)} diagram(s) drawn as a mermaid syntax error")
    if len(drawn) < expected - raw:
        problems.append(f"{expected - raw} diagram(s) expected, {len(drawn)} drawn")
    return problems


def small_diagrams(tab: Page) -> list[str]:
    problems = []
    for number, diagram in enumerate(drawn_diagrams(tab), start=1):
        if not diagram["view_width"]:
            continue
        scale = diagram["shown_width"] / diagram["view_width"]
        if scale < SMALLEST_DIAGRAM_SCALE:
            problems.append(
                f"diagram {number} ({diagram['kind']}) is drawn at {scale:.0%} of its size: its "
                "text is too small to read; draw it top to bottom, or give it fewer columns"
            )
    return problems


def overflowing_code(tab: Page) -> list[str]:
    return [
        f"code block wider than the column: {found}" for found in tab.evaluate(_OVERFLOWING_CODE)
    ]


def overflowing_tables(tab: Page) -> list[str]:
    return [
        f"table wider than the column (split it): {header}"
        for header in tab.evaluate(_OVERFLOWING_TABLES)
    ]


def screenshot_name(page_path: str, width_name: str) -> str:
    """`chapters/01-config.html`, `phone` -> `phone-chapters_01-config.png`."""
    stem = page_path.removesuffix(".html").removesuffix("index").rstrip("/") or "home"
    return f"{width_name}-{stem.replace('/', '_')}.png"
